/**
 * Why an invocation failed: the handler (or the module's init) threw, the
 * function ran past its timeout, or the instance's thread died.
 */
export type InvokeErrorKind = 'error' | 'timeout' | 'crash';

/** A failed invocation's error, as Lambda reports `errorType` and `errorMessage`. */
export interface InvokeError {
  readonly kind: InvokeErrorKind;
  readonly name: string;
  readonly message: string;
}

/** What one invocation took, whatever its outcome. */
interface InvokeCosts {
  readonly coldStart: boolean;
  /** Wall time from the call to the answer, init included on a cold start. */
  readonly durationMs: number;
  /**
   * CPU time of the instance's own thread for this invocation (and its init
   * on a cold start), as Lambda's CPU share would be spent on it; undefined
   * when the thread timed out or died before reporting it.
   */
  readonly cpuMs?: number;
}

/** The answer of one invocation; it never rejects for a failure of the function itself. */
export type InvokeResult =
  | ({ ok: true; result: unknown } & InvokeCosts)
  | ({ ok: false; error: InvokeError } & InvokeCosts);

/** `name` of every `timeout` failure, as Lambda reports a timed-out invocation. */
export const TIMEOUT_ERROR_NAME = 'Sandbox.Timedout';

/** `name` of every `crash` failure: the runtime exited (or was stopped) mid-invocation. */
export const CRASH_ERROR_NAME = 'Runtime.ExitError';
