/**
 * The time by which the current invocation must have answered. Lambda runs one
 * invocation at a time per execution environment, so module state is safe;
 * retries read it to give up in time to answer `internal` rather than be cut
 * off by the function's timeout (which would leave the client no reply at all).
 */

/** Time kept back for answering after the last retry gives up. */
export const ANSWER_MARGIN_MS = 1_000;

/** The part of Lambda's context this needs. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

let deadline = Number.POSITIVE_INFINITY;

/** Starts an invocation; without a context (tests calling a handler directly) nothing is bounded. */
export function startInvocation(context: InvocationContext | undefined, now = Date.now()): void {
  deadline =
    context === undefined
      ? Number.POSITIVE_INFINITY
      : now + context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS;
}

/** Milliseconds since the epoch; infinite outside an invocation with a context. */
export function invocationDeadline(): number {
  return deadline;
}
