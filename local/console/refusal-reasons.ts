import type { LogLine } from './log-line.js';

/** What the `$connect` authorizer logs before it refuses (lambdas/handlers/authorizer.ts). */
const REFUSED = /^authorizer: refused: (.+)$/s;

/** The reason an authorizer's log entry gives for refusing a connection, when it is one. */
export function refusalReason(
  line: LogLine,
): { readonly connectionId: string; readonly reason: string } | undefined {
  if (line.kind !== 'entry') return undefined;
  const reason = REFUSED.exec(line.message)?.[1];
  const connectionId = line.fields.connectionId;
  return reason === undefined || typeof connectionId !== 'string'
    ? undefined
    : { connectionId, reason };
}

interface Waiting {
  readonly timer: NodeJS.Timeout;
  readonly reason?: string;
  /** The line of a refusal, given its authorizer's reason when known. */
  readonly refusal?: (reason?: string) => string;
}

/**
 * Pairs each refused handshake with the reason its authorizer logged, to
 * print them as one line. They come by two channels (the reason on the
 * function's stdout, the refusal once the invocation's result is back) in
 * either order, so the first to come waits for the other, at most `waitMs`,
 * and is then printed alone.
 */
export class RefusalReasons {
  readonly #waiting = new Map<string, Waiting>();

  constructor(
    private readonly waitMs: number,
    private readonly write: (line: string) => void,
  ) {}

  /** An authorizer's reason; `alone` is its line should no refusal come for it. */
  reason(connectionId: string, reason: string, alone: string): void {
    const refusal = this.#take(connectionId)?.refusal;
    if (refusal !== undefined) this.write(refusal(reason));
    else this.#wait(connectionId, { reason }, () => this.write(alone));
  }

  /** A refused handshake, as a line given the authorizer's reason when one came. */
  refusal(connectionId: string, line: (reason?: string) => string): void {
    const reason = this.#take(connectionId)?.reason;
    if (reason !== undefined) this.write(line(reason));
    else this.#wait(connectionId, { refusal: line }, () => this.write(line()));
  }

  #take(connectionId: string): Waiting | undefined {
    const waiting = this.#waiting.get(connectionId);
    if (waiting === undefined) return undefined;
    clearTimeout(waiting.timer);
    this.#waiting.delete(connectionId);
    return waiting;
  }

  #wait(connectionId: string, half: Omit<Waiting, 'timer'>, alone: () => void): void {
    const timer = setTimeout(() => {
      this.#waiting.delete(connectionId);
      alone();
    }, this.waitMs);
    // A line still waiting must not hold the process open on its way out.
    timer.unref();
    this.#waiting.set(connectionId, { ...half, timer });
  }
}
