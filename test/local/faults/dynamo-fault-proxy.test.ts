import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyRetryStrategy } from '../../../lambdas/adapters/sdk-retry-strategy.js';
import { localDynamoClient } from '../../../local/dynamo/client.js';
import { type DynamoEngine, startDynamo } from '../../../local/dynamo/engine.js';
import {
  type DynamoFaultProxy,
  startDynamoFaultProxy,
} from '../../../local/faults/dynamo-fault-proxy.js';
import { FaultInjector, type FaultOptions } from '../../../local/faults/fault-injector.js';

const TABLE = 'Faults';
const KEY = { pk: { S: 'item#1' } };

let engine: DynamoEngine;
let direct: DynamoDBClient;
const opened: { close(): unknown }[] = [];

beforeEach(async () => {
  engine = await startDynamo();
  direct = localDynamoClient(engine.endpoint);
  await direct.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
  direct.destroy();
  await engine.stop();
});

async function proxied(options: FaultOptions) {
  const faults = new FaultInjector(options);
  const proxy: DynamoFaultProxy = await startDynamoFaultProxy(engine.endpoint, () =>
    faults.dynamo(),
  );
  opened.push(proxy);
  return { faults, proxy };
}

/** A client through the proxy; `maxAttempts: 1` shows each answer as it is. */
function clientOf(proxy: DynamoFaultProxy, maxAttempts = 1): DynamoDBClient {
  const client = localDynamoClient(proxy.endpoint, { maxAttempts });
  opened.push({ close: () => client.destroy() });
  return client;
}

const put = (value: string) =>
  new PutItemCommand({ TableName: TABLE, Item: { ...KEY, value: { S: value } } });

async function storedValue(): Promise<string | undefined> {
  const { Item } = await direct.send(
    new GetItemCommand({ TableName: TABLE, Key: KEY, ConsistentRead: true }),
  );
  return Item?.value?.S;
}

describe('DynamoDB fault proxy', () => {
  it('passes requests and answers through unchanged at rate 0', async () => {
    const { faults, proxy } = await proxied({ dynamoRate: 0 });
    const client = clientOf(proxy);

    await client.send(put('through the proxy'));
    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: KEY, ConsistentRead: true }),
    );

    expect(Item?.value?.S).toBe('through the proxy');
    expect(await storedValue()).toBe('through the proxy');
    expect(faults.report).toMatchObject({ dynamoThrottled: 0, dynamoServerErrors: 0 });
  });

  it('passes an engine error through as the engine answered it', async () => {
    const { proxy } = await proxied({ dynamoRate: 0 });

    const sent = clientOf(proxy).send(new GetItemCommand({ TableName: 'NoSuchTable', Key: KEY }));

    await expect(sent).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('throttles at rate 1 with ProvisionedThroughputExceededException and the write never reaches the engine', async () => {
    const { proxy } = await proxied({ dynamoRate: 1 });

    const sent = clientOf(proxy).send(put('throttled'));

    await expect(sent).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    await expect(sent).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect(await storedValue()).toBeUndefined();
  });

  it('answers the next fault with a 500 InternalServerError and the write never reaches the engine', async () => {
    const { proxy } = await proxied({ dynamoRate: 1 });
    const client = clientOf(proxy);
    await client.send(put('first')).catch(() => undefined);

    const sent = client.send(put('second'));

    await expect(sent).rejects.toBeInstanceOf(InternalServerError);
    await expect(sent).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(await storedValue()).toBeUndefined();
  });

  it("makes the functions' retry strategy retry each fault once, then succeed", async () => {
    // Two faults (a throttling error, then a server error), then nothing.
    const draws = [0, 0];
    const { faults, proxy } = await proxied({ dynamoRate: 0.5, random: () => draws.shift() ?? 1 });
    const strategy = new PolicyRetryStrategy({ attempts: 3, baseDelayMs: 1, maxDelayMs: 1 });
    // Built as the functions build theirs (lambdas/handlers/clients.ts).
    const client = new DynamoDBClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      retryStrategy: strategy,
    });
    opened.push({ close: () => client.destroy() });

    const result = await client.send(put('after two faults'));

    expect(result.$metadata.attempts).toBe(3);
    expect(strategy.retries).toBe(2);
    expect(faults.report).toMatchObject({ dynamoThrottled: 1, dynamoServerErrors: 1 });
    expect(await storedValue()).toBe('after two faults');
  });
});
