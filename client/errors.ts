import type { ErrorCode, ErrorFrame } from '../protocol/messages.js';

/**
 * The code a {@link RealtimeError} carries: a protocol error code (PROTOCOL.md
 * section 6), or one of the SDK's own:
 * - `timeout`: no reply came in time, or the connection dropped before a
 *   non-idempotent request (`send`, `direct`) was answered. The outcome is
 *   unknown: a `send` may have been stored, and then arrives as a `message`.
 * - `queue_full`: the request was made while offline and the queue of waiting
 *   requests was full; it was never sent.
 * - `closed`: the client stopped for good (`close()` or a terminal refusal)
 *   before the request was answered.
 */
export type RealtimeErrorCode = ErrorCode | 'timeout' | 'queue_full' | 'closed';

/** Extra details of a {@link RealtimeError}. */
export interface RealtimeErrorOptions {
  readonly cause?: unknown;
  /** The room the error concerns, when it concerns one (a failed rejoin, a failed catch-up). */
  readonly room?: string;
}

/** The one error type of the client SDK: branch on `code`, never on `message`. */
export class RealtimeError extends Error {
  override readonly name = 'RealtimeError';
  readonly code: RealtimeErrorCode;
  readonly room?: string;

  constructor(code: RealtimeErrorCode, message: string, options: RealtimeErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    if (options.room !== undefined) this.room = options.room;
  }
}

/** The error a protocol `error` frame stands for. */
export function errorFromFrame(frame: ErrorFrame, room?: string): RealtimeError {
  return new RealtimeError(frame.code, frame.message, room === undefined ? {} : { room });
}
