import type { HookName } from './types.js';

/** How a hook call failed. */
export type HookFailure = 'threw' | 'overran' | 'bad_answer';

/**
 * A server hook threw, overran its time budget or answered something it may
 * not. Not a `ProtocolError`: the request answers `internal` and the failure
 * is logged with this message, which names the hook.
 */
export class HookFailedError extends Error {
  override readonly name = 'HookFailedError';

  constructor(
    readonly hook: HookName,
    readonly code: HookFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`The ${hook} hook ${message}`, options);
  }
}
