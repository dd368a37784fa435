import type { ErrorCode } from '../../protocol/messages.js';

/**
 * A refusal the client is told about, with the protocol code to send.
 * Anything else thrown by a request path becomes `internal`.
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The people-facing text sent with `internal`; never the real error. */
export const INTERNAL_MESSAGE = 'Something went wrong; try again.';
