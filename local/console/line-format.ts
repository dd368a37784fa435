import {
  describeFailure,
  type RequestOutcome,
  type RequestReport,
} from '../gateway/request-report.js';
import type { LogLine } from './log-line.js';

/**
 * Keys of a Powertools log entry that every line of a function repeats (its
 * Lambda context, sampling, the ids of the request): the request's own line
 * already says which request it was.
 */
const REPEATED_KEYS = new Set([
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
  'connectionId',
  'requestId',
]);

/** `14:03:07.123`: the local time of day, to the millisecond. */
export function clockTime(at: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  const millis = String(at.getMilliseconds()).padStart(3, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${millis}`;
}

/**
 * `14:03:07.123  join         alice       12 ms  ok`: time, route, user,
 * duration and outcome, which comes last because it may be long.
 * `reason` replaces what the gateway knew of a refusal.
 */
export function requestLine(at: Date, report: RequestReport, reason?: string): string {
  const duration = `${Math.round(report.durationMs)} ms`.padStart(8);
  const route = report.route.padEnd(12);
  const user = (report.userId ?? '').padEnd(10);
  return `${clockTime(at)}  ${route} ${user} ${duration}  ${outcomeText(report.outcome, reason)}`;
}

/** The outcome in a few words: `ok`, an error code, `401 refused: <reason>`, `timeout`. */
export function outcomeText(outcome: RequestOutcome, reason?: string): string {
  switch (outcome.kind) {
    case 'ok':
      return 'ok';
    case 'error':
      return outcome.code;
    case 'refused':
      return `${outcome.status} refused: ${reason ?? outcome.reason}`;
    case 'failed':
      return describeFailure(outcome.error);
    case 'unrouted':
      return 'no route: Forbidden';
    case 'gone':
      return 'the client left during $connect';
  }
}

/** A function's line for people: `14:03:07.123  [JoinHandler] WARN  onJoin hook failed  hook=onJoin`. */
export function functionLine(
  at: Date,
  line: Exclude<LogLine, { kind: 'stack' | 'metrics' }>,
): string {
  const head = `${clockTime(at)}  [${line.fn}]`;
  switch (line.kind) {
    case 'entry':
      return `${head} ${line.level.padEnd(5)} ${line.message}${fieldsText(line.fields)}`;
    case 'failure':
      return `${head} ERROR ${line.label}: ${line.error}`;
    case 'trace':
    case 'text':
      return `${head} ${line.text}`;
  }
}

/** `  key=value key="two words"`, without the keys every line repeats. */
function fieldsText(fields: Readonly<Record<string, unknown>>): string {
  const shown = Object.entries(fields)
    .filter(([key, value]) => !REPEATED_KEYS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${valueText(value)}`);
  return shown.length === 0 ? '' : `  ${shown.join(' ')}`;
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
