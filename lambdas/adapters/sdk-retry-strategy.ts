import { type RetryPolicy, retryDelay } from './retry.js';

/**
 * The SDK's classification of a failed attempt (the retry middleware computes
 * it from the error's name, status and network errors). Declared here rather
 * than imported from @smithy/types, which is only a transitive dependency.
 */
export interface RetryErrorInfo {
  readonly errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
}

/** The SDK's retry token: how many retries were made and how long to wait before the next. */
export interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/**
 * An SDK v3 retry strategy (the `RetryStrategyV2` shape the retry middleware
 * calls) that follows a `RetryPolicy`: throttling, server errors and transient
 * network failures are retried with full jitter, client errors (a failed
 * condition, a validation error) never, and no retry is started that would end
 * past the policy's deadline. Refusing a retry makes the middleware throw the
 * attempt's own error, so callers see DynamoDB's error, not ours.
 */
export class PolicyRetryStrategy {
  /** Retries made so far by this instance, for reports and tests. */
  retries = 0;

  constructor(private readonly policy: RetryPolicy) {}

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retry = previous.getRetryCount() + 1;
    const delay = info.errorType === 'CLIENT_ERROR' ? undefined : retryDelay(this.policy, retry);
    if (delay === undefined) throw new Error('No retry left');
    this.retries++;
    return token(retry, delay);
  }

  recordSuccess(_token: RetryToken): void {}
}

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}
