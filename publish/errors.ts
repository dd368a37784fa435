import type { ErrorCode } from '../protocol/messages.js';

/**
 * The publish function refused the input (PROTOCOL.md section 6 codes:
 * `bad_request`, `too_large`): nothing was stored or delivered, and sending
 * the same input again is refused again.
 */
export class PublishError extends Error {
  override readonly name = 'PublishError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The publish function failed (Lambda reported a function error): the
 * message may or may not have been stored, and trying again may work. A room
 * publish retried after such a failure can appear twice, with two seqs.
 */
export class PublishFunctionError extends Error {
  override readonly name = 'PublishFunctionError';
  /** The protocol's code for a failure that is nobody's input's fault. */
  readonly code = 'internal' satisfies ErrorCode;

  constructor(
    /** Lambda's `FunctionError`: `Unhandled`, or `Handled` for a runtime-reported error. */
    readonly functionError: string,
    /** The `errorType` the function reported, e.g. `Error` or `Sandbox.Timedout`. */
    readonly errorType: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
