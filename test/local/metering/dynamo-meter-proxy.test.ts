import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoEngine, startDynamo } from '../../../local/dynamo/engine.js';
import {
  type DynamoMeterProxy,
  startDynamoMeterProxy,
} from '../../../local/metering/dynamo-meter-proxy.js';
import { Meter } from '../../../local/metering/meter.js';

let engine: DynamoEngine;
let proxy: DynamoMeterProxy;
const meter = new Meter();
let client: DynamoDBClient;

beforeAll(async () => {
  engine = await startDynamo();
  proxy = await startDynamoMeterProxy(engine.endpoint, meter);
  client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: 'metered',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  client.destroy();
  await proxy.close();
  await engine.stop();
});

describe('the DynamoDB meter proxy', () => {
  it('counts each request by operation with the units the engine reports, answering as the engine does', async () => {
    meter.reset();
    await client.send(new PutItemCommand({ TableName: 'metered', Item: { pk: { S: 'a' } } }));
    const got = await client.send(
      new GetItemCommand({ TableName: 'metered', Key: { pk: { S: 'a' } }, ConsistentRead: true }),
    );
    await client.send(
      new QueryCommand({
        TableName: 'metered',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'a' } },
      }),
    );

    expect(got.Item).toEqual({ pk: { S: 'a' } });
    const counts = meter.snapshot();
    expect(counts.dynamoCalls).toEqual({ PutItem: 1, GetItem: 1, Query: 1 });
    // A small item: 1 write unit; a consistent read 1 unit, an eventually consistent query 0.5.
    expect(counts.writeUnits).toBe(1);
    expect(counts.readUnits).toBe(1.5);
  });

  it('leaves a caller’s own ReturnConsumedCapacity as it asked', async () => {
    meter.reset();
    const put = await client.send(
      new PutItemCommand({
        TableName: 'metered',
        Item: { pk: { S: 'b' } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );

    expect(put.ConsumedCapacity?.CapacityUnits).toBe(1);
    expect(meter.snapshot().writeUnits).toBe(1);
  });
});
