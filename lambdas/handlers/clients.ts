import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '../adapters/dynamo-connection-store.js';
import { DynamoMessageStore } from '../adapters/dynamo-message-store.js';
import { DynamoRoomStore } from '../adapters/dynamo-room-store.js';
import { ManagementApiNotifier } from '../adapters/management-api-notifier.js';
import type { Notifier, Services } from '../domain/ports.js';
import { readLimits, required } from '../shared/config.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Keep-alive sockets shared by a fan-out's posts; more than the fan-out's concurrency. */
const AGENT = { keepAlive: true, maxSockets: 64 };

/**
 * Builds the services of a function from its environment. Called once per
 * execution environment (module scope), so clients and their sockets are
 * reused while the function is warm. The SDK finds its region and, locally,
 * its endpoint (`AWS_ENDPOINT_URL_DYNAMODB`) in the environment itself.
 */
export function createServices(env: Env, notifier: Notifier = noNotifier): Services {
  const tableName = required(env, 'TABLE_NAME');
  const limits = readLimits(env);
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    connections: new DynamoConnectionStore(documents, tableName, {
      rateLimitPerSecond: limits.rateLimitPerSecond,
    }),
    rooms: new DynamoRoomStore(documents, tableName),
    messages: new DynamoMessageStore(documents, tableName),
    notifier,
    limits,
    clock: Date.now,
  };
}

/** The notifier of functions that post, pointed at the stage's callback URL. */
export function createNotifier(env: Env): ManagementApiNotifier {
  const client = new ApiGatewayManagementApiClient({
    endpoint: required(env, 'CALLBACK_URL'),
    // ManagementApiNotifier retries with its own jittered backoff.
    maxAttempts: 1,
    requestHandler: {
      httpsAgent: AGENT,
      httpAgent: AGENT,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
    },
  });
  return new ManagementApiNotifier(client);
}

/** For functions that never post: using it is a wiring defect. */
const noNotifier: Notifier = {
  post: () =>
    Promise.reject(new Error('This function has no notifier: it is not granted ManageConnections')),
};
