import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Settings of {@link localDynamoClient}. */
export interface LocalDynamoClientOptions {
  /**
   * Milliseconds before a request (or its connection) is given up.
   * @default - the SDK's default: no timeout
   */
  readonly timeoutMs?: number;
  /**
   * Attempts per request, the first included.
   * @default - the SDK's default (3)
   */
  readonly maxAttempts?: number;
}

/**
 * A DynamoDB client for a local engine: dummy credentials, region us-east-1.
 * The access key is letters only because DynamoDB Local 2+ refuses anything else.
 */
export function localDynamoClient(
  endpoint: string,
  options: LocalDynamoClientOptions = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    ...(options.timeoutMs === undefined
      ? {}
      : {
          requestHandler: {
            requestTimeout: options.timeoutMs,
            connectionTimeout: options.timeoutMs,
            // Without it the SDK only logs a warning and keeps waiting.
            throwOnRequestTimeout: true,
          },
        }),
  });
}
