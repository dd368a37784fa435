/** Stable codes of {@link FunctionPoolError}; branch on these, not on the text. */
export type FunctionPoolErrorCode = 'pool_closed' | 'invalid_config';

/** A function pool that cannot take the call: it is closed, or its definition or options are unusable. */
export class FunctionPoolError extends Error {
  override readonly name = 'FunctionPoolError';

  constructor(
    readonly code: FunctionPoolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
