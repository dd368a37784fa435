/** How a retried call backs off. */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Gives up early rather than sleep past this point (ms since the epoch). */
  readonly deadline?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn`, retrying errors that `isRetryable` accepts with exponential
 * backoff and full jitter (delay drawn from [0, min(cap, base * 2^n))), as the
 * AWS Architecture Blog's "Exponential Backoff And Jitter" recommends, so that
 * many throttled callers do not retry in lockstep. `onRetry` sees each retry.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  policy: RetryPolicy,
  onRetry: (error: unknown, attempt: number) => void = () => {},
): Promise<T> {
  const wait = policy.sleep ?? sleep;
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= policy.attempts || !isRetryable(error)) throw error;
      const delay = random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      if (policy.deadline && Date.now() + delay > policy.deadline()) throw error;
      onRetry(error, attempt);
      await wait(delay);
    }
  }
}
