import type { RequestReport } from '../gateway/request-report.js';
import { functionLine, requestLine } from './line-format.js';
import { readLogLine } from './log-line.js';
import { RefusalReasons, refusalReason } from './refusal-reasons.js';

/** Where a local stack's log lines and request reports go to be printed. */
export interface LocalConsole {
  /** A line of the local stack's own, or of a function's (prefixed `[name] `). */
  log(line: string): void;
  /** A request the gateway answered. */
  request(report: RequestReport): void;
}

/** How to print. */
export interface LocalConsoleOptions {
  /**
   * Every line as the stack and the functions wrote it, metrics documents and
   * whole JSON log entries included, besides the request lines (`--verbose`).
   * @default false
   */
  readonly verbose?: boolean;
  /** @default console.log */
  readonly write?: (line: string) => void;
  /** Stamps each line. @default the current time */
  readonly now?: () => Date;
  /**
   * How long a refused handshake waits for its authorizer's reason (and the
   * reason for its refusal) before it is printed alone.
   * @default 300
   */
  readonly reasonWaitMs?: number;
}

/** The error the `$connect` authorizer throws to refuse with 401, as API Gateway requires. */
const UNAUTHORIZED = 'Error: Unauthorized';

/**
 * The console of `realtime-local` (and `npm start`) for people: one line per
 * request (time, route, user, duration, outcome) and the functions' log
 * entries as one readable line each. Metrics documents are not printed, nor
 * the stack trace the runtime logs for an authorizer's `Unauthorized`: it is
 * how an authorizer refuses, not a fault. The local stack's own lines are
 * printed as they are. With `verbose`, every line is printed as it was written.
 */
export function createLocalConsole(options: LocalConsoleOptions = {}): LocalConsole {
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? (() => new Date());
  const refusals = new RefusalReasons(options.reasonWaitMs ?? 300, write);
  /** The function whose trace lines are being left out, while they come. */
  let quietTraceOf: string | undefined;

  const request = (report: RequestReport) => {
    const at = now();
    const { outcome } = report;
    // Only the authorizer's own log says why it refused; the gateway saw `Unauthorized`.
    const logsItsReason =
      !options.verbose &&
      outcome.kind === 'refused' &&
      outcome.by === 'authorizer' &&
      outcome.status !== 500;
    if (logsItsReason) {
      refusals.refusal(report.connectionId, (reason) => requestLine(at, report, reason));
    } else {
      write(requestLine(at, report));
    }
  };

  if (options.verbose) return { log: write, request };

  const log = (raw: string) => {
    const line = readLogLine(raw);
    if (line.kind === 'trace' && line.fn === quietTraceOf) return;
    quietTraceOf = undefined;
    switch (line.kind) {
      case 'stack':
        return write(line.text);
      case 'metrics':
        return;
      case 'failure':
        if (line.label === 'Invoke Error' && line.error === UNAUTHORIZED) {
          quietTraceOf = line.fn;
          return;
        }
        return write(functionLine(now(), line));
      case 'entry': {
        const refused = refusalReason(line);
        const text = functionLine(now(), line);
        if (refused === undefined) return write(text);
        return refusals.reason(refused.connectionId, refused.reason, text);
      }
      default:
        return write(functionLine(now(), line));
    }
  };
  return { log, request };
}
