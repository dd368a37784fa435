import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../lambdas/adapters/retry.js';
import { PolicyRetryStrategy } from '../../lambdas/adapters/sdk-retry-strategy.js';

/** What the fake endpoint answers, one entry per request; then an empty GetItem result. */
type Answer = { status: number; type: string } | 'ok';

const THROTTLED: Answer = { status: 400, type: 'ProvisionedThroughputExceededException' };
const SERVER_ERROR: Answer = { status: 500, type: 'InternalServerError' };
const CONDITION: Answer = { status: 400, type: 'ConditionalCheckFailedException' };

let server: Server;
let endpoint: string;
let script: Answer[];
let requests: number;

beforeAll(async () => {
  // A DynamoDB endpoint that answers from the script: the SDK's own retry
  // middleware classifies each answer, so this exercises the real code path.
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const answer = script[requests++] ?? 'ok';
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      if (answer === 'ok') {
        response.end('{}');
        return;
      }
      response.statusCode = answer.status;
      response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${answer.type}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  script = [];
  requests = 0;
});

function clientWith(policy: Partial<RetryPolicy> = {}) {
  const strategy = new PolicyRetryStrategy({
    attempts: 4,
    baseDelayMs: 1,
    maxDelayMs: 2,
    ...policy,
  });
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: strategy,
  });
  const get = () =>
    client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }));
  return { strategy, get };
}

describe('PolicyRetryStrategy in a DynamoDBClient', () => {
  it('retries throttling and server errors until a success, counting the retries', async () => {
    script = [THROTTLED, SERVER_ERROR, THROTTLED];
    const { strategy, get } = clientWith();

    const output = await get();

    expect(requests).toBe(4);
    expect(strategy.retries).toBe(3);
    expect(output.$metadata.attempts).toBe(4);
  });

  it('gives up after the policy attempts with DynamoDB’s own error', async () => {
    script = [THROTTLED, THROTTLED, THROTTLED, THROTTLED, THROTTLED];
    const { get } = clientWith({ attempts: 3 });

    await expect(get()).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    expect(requests).toBe(3);
  });

  it('never retries a client error such as a failed condition', async () => {
    script = [CONDITION];
    const { strategy, get } = clientWith();

    await expect(get()).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(requests).toBe(1);
    expect(strategy.retries).toBe(0);
  });

  it('starts no retry that would end past the deadline', async () => {
    script = [THROTTLED, THROTTLED];
    const deadline = Date.now() + 50;
    // Every delay is the full 1 s cap: the first retry would already end too late.
    const { strategy, get } = clientWith({
      baseDelayMs: 1_000,
      maxDelayMs: 1_000,
      random: () => 1,
      deadline: () => deadline,
    });

    const started = Date.now();
    await expect(get()).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });

    expect(requests).toBe(1);
    expect(strategy.retries).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
