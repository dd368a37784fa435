import {
  type ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { Delivery, Notifier } from '../domain/ports.js';
import { type RetryPolicy, withRetry } from './retry.js';

/**
 * Retries of throttled or failed posts: at most 1.55 s of backoff in all,
 * because a fan-out waits for its slowest post (the deadline bounds it too).
 */
export const POST_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 50, maxDelayMs: 800 };

/**
 * Posts frames with API Gateway's `PostToConnection`. A connection that is gone
 * answers HTTP 410 (`GoneException`); SDK v3 errors carry the status in
 * `$metadata.httpStatusCode`, not in a `statusCode` property, so both the class
 * and that status are checked. Throttling (`LimitExceededException`, 429) and
 * 5xx are retried with jittered backoff; the client itself is built with
 * `maxAttempts: 1` so retries are not multiplied.
 */
export class ManagementApiNotifier implements Notifier {
  /** Retries made so far by this instance, for reports and tests. */
  retries = 0;

  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly policy: RetryPolicy = POST_RETRY,
  ) {}

  async post(connectionId: string, payload: string): Promise<Delivery> {
    const outcome = await this.call(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload }),
    );
    return outcome === 'gone' ? 'gone' : 'delivered';
  }

  async probe(connectionId: string): Promise<'live' | 'gone'> {
    const outcome = await this.call(new GetConnectionCommand({ ConnectionId: connectionId }));
    return outcome === 'gone' ? 'gone' : 'live';
  }

  /** Sends a command with retries; a 410 is an answer, not an error. */
  private async call(
    command: PostToConnectionCommand | GetConnectionCommand,
  ): Promise<'done' | 'gone'> {
    try {
      await withRetry(
        // The union of commands has no single `send` overload.
        () => this.client.send(command as PostToConnectionCommand),
        isRetryablePostError,
        this.policy,
        () => {
          this.retries++;
        },
      );
      return 'done';
    } catch (error) {
      if (isGone(error)) return 'gone';
      throw error;
    }
  }
}

/** True for the error API Gateway answers when the connection no longer exists. */
export function isGone(error: unknown): boolean {
  return (
    error instanceof GoneException ||
    (error instanceof Error && error.name === 'GoneException') ||
    httpStatusOf(error) === 410
  );
}

/** Node's codes for a connection that failed or broke before an answer came. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EAI_AGAIN',
]);

/**
 * Throttling, server-side failures and broken connections are worth another
 * try; anything else is not. A reused keep-alive socket that the other side
 * closed fails with ECONNRESET before any answer: the post may or may not have
 * been delivered, and a second copy is harmless (clients drop a seq they have).
 */
export function isRetryablePostError(error: unknown): boolean {
  if (isGone(error)) return false;
  if (error instanceof LimitExceededException) return true;
  if (error instanceof Error && error.name === 'LimitExceededException') return true;
  if (error instanceof Error && error.name === 'TimeoutError') return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  const status = httpStatusOf(error);
  return status === 429 || (status !== undefined && status >= 500);
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}
