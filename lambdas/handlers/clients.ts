import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { DynamoMessageStore } from '../adapters/dynamo-message-store.js';
import { DynamoRoomStore } from '../adapters/dynamo-room-store.js';
import { LambdaDeliveryWorkers } from '../adapters/lambda-delivery-workers.js';
import { LambdaPruneQueue } from '../adapters/lambda-prune-queue.js';
import { ManagementApiNotifier, POST_RETRY } from '../adapters/management-api-notifier.js';
import { createMetrics, PowertoolsMetrics } from '../adapters/powertools-metrics.js';
import type { RetryPolicy } from '../adapters/retry.js';
import { PolicyRetryStrategy } from '../adapters/sdk-retry-strategy.js';
import { FAN_OUT_CONCURRENCY } from '../domain/fan-out.js';
import type { DeliveryWorkers, Notifier, PruneQueue, Services } from '../domain/ports.js';
import { InstalledHooks } from '../hooks/installed-hooks.js';
import { readFanOutChunkSize, readHookTimeoutMs, readLimits, required } from '../shared/config.js';
import { invocationDeadline } from '../shared/invocation-deadline.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * DynamoDB's retries: more than the SDK's default 3 attempts, because a
 * request that fails answers `internal`, but never past the invocation's
 * deadline. Full jitter from 25 ms capped at 1 s: the 7 retries back off at
 * most 2.6 s in all, well inside the 15 s function timeout.
 */
export const DYNAMO_RETRY: RetryPolicy = {
  attempts: 8,
  baseDelayMs: 25,
  maxDelayMs: 1_000,
  deadline: invocationDeadline,
};

/** Keep-alive sockets for a fan-out's posts: one per post in flight. */
const POST_AGENT = { keepAlive: true, maxSockets: FAN_OUT_CONCURRENCY };
/** Keep-alive sockets for invoking the fan-out workers and the `prune` function. */
const INVOKE_AGENT = { keepAlive: true, maxSockets: 16 };

/**
 * Builds the services of a function from its environment. Called once per
 * execution environment (module scope), so clients and their sockets are
 * reused while the function is warm. The SDK finds its region and, locally,
 * its endpoint (`AWS_ENDPOINT_URL_DYNAMODB`) in the environment itself.
 */
export function createServices(env: Env, notifier: Notifier = noNotifier): Services {
  const tableName = required(env, 'TABLE_NAME');
  const limits = readLimits(env);
  const dynamo = new DynamoDBClient({
    retryStrategy: new PolicyRetryStrategy(DYNAMO_RETRY),
    // A request that hangs becomes a transient error and is retried (the SDK
    // only logs a warning past requestTimeout unless told to throw).
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      throwOnRequestTimeout: true,
    },
  });
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    connections: new DynamoConnectionStore(documents, tableName, {
      rateLimitPerSecond: limits.rateLimitPerSecond,
    }),
    rooms: new DynamoRoomStore(documents, tableName),
    messages: new DynamoMessageStore(documents, tableName),
    notifier,
    ...(env.FANOUT_FUNCTION_NAME ? { workers: createWorkers(env, env.FANOUT_FUNCTION_NAME) } : {}),
    ...(env.PRUNE_FUNCTION_NAME ? { pruneQueue: createPruneQueue(env.PRUNE_FUNCTION_NAME) } : {}),
    limits,
    clock: Date.now,
    metrics: new PowertoolsMetrics(createMetrics(env)),
    // Whatever `installHooks` has installed by the time a request asks.
    hooks: new InstalledHooks({ timeoutMs: readHookTimeoutMs(env) }),
  };
}

/**
 * The fan-out workers of a function the stack allows to invoke them. One
 * attempt: a retried invocation that had already run would post its share
 * twice; a refused one is posted by the caller instead. The timeout outlasts
 * the worker's own (10 s), within the caller's 15 s.
 */
function createWorkers(env: Env, functionName: string): DeliveryWorkers {
  const client = new LambdaClient({
    maxAttempts: 1,
    requestHandler: { httpsAgent: INVOKE_AGENT, httpAgent: INVOKE_AGENT, requestTimeout: 12_000 },
  });
  return new LambdaDeliveryWorkers(client, functionName, readFanOutChunkSize(env));
}

/**
 * The `prune` function, invoked asynchronously: Lambda answers once it has
 * queued the event, so the SDK's own retries (3 attempts) are safe and short.
 */
function createPruneQueue(functionName: string): PruneQueue {
  const client = new LambdaClient({
    requestHandler: {
      httpsAgent: INVOKE_AGENT,
      httpAgent: INVOKE_AGENT,
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      throwOnRequestTimeout: true,
    },
  });
  return new LambdaPruneQueue(client, functionName);
}

/** The notifier of functions that post, pointed at the stage's callback URL. */
export function createNotifier(env: Env): ManagementApiNotifier {
  const client = new ApiGatewayManagementApiClient({
    endpoint: required(env, 'CALLBACK_URL'),
    // ManagementApiNotifier retries with its own jittered backoff.
    maxAttempts: 1,
    requestHandler: {
      httpsAgent: POST_AGENT,
      httpAgent: POST_AGENT,
      connectionTimeout: 2_000,
      // A post that hangs fails with TimeoutError, which the notifier retries.
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    },
  });
  return new ManagementApiNotifier(client, { ...POST_RETRY, deadline: invocationDeadline });
}

/** For functions that never post: using it is a wiring defect. */
const notGranted = () =>
  Promise.reject(new Error('This function has no notifier: it is not granted ManageConnections'));
const noNotifier: Notifier = { post: notGranted, probe: notGranted };
