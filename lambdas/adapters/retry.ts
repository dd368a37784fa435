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
 * The delay before retry number `retry` (1 for the first), or `undefined` when
 * the policy gives up: out of attempts, or the delay would end past the deadline.
 * Exponential backoff with full jitter (a delay drawn from
 * [0, min(cap, base * 2^(retry-1)))), as the AWS Architecture Blog's
 * "Exponential Backoff And Jitter" recommends, so that many throttled callers
 * do not retry in lockstep.
 */
export function retryDelay(policy: RetryPolicy, retry: number): number | undefined {
  if (retry >= policy.attempts) return undefined;
  const random = policy.random ?? Math.random;
  const delay = random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  if (policy.deadline && Date.now() + delay > policy.deadline()) return undefined;
  return delay;
}

/**
 * Calls `fn`, retrying errors that `isRetryable` accepts as `retryDelay` says.
 * `onRetry` sees each retry.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  isRetryable: (error: unknown) => boolean,
  policy: RetryPolicy,
  onRetry: (error: unknown, attempt: number) => void = () => {},
): Promise<T> {
  const wait = policy.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const delay = isRetryable(error) ? retryDelay(policy, attempt) : undefined;
      if (delay === undefined) throw error;
      onRetry(error, attempt);
      await wait(delay);
    }
  }
}
