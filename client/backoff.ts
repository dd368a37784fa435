/** How reconnect delays grow. */
export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
}

/** The defaults of `RealtimeClientOptions.reconnect`. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
};

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry), with
 * "full jitter": uniform in `[0, min(maxDelayMs, initialDelayMs · factor^attempt))`,
 * so that clients cut off together do not come back together
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 *
 * @example
 * backoffDelay(3, { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 }); // somewhere in [0, 4000)
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
  if (!(ceiling > 0)) return 0;
  const fraction = Math.min(Math.max(random(), 0), 1);
  // An injected random() of exactly 1 must still stay below the ceiling.
  return Math.min(Math.floor(ceiling * fraction), Math.ceil(ceiling) - 1);
}
