import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  ExecuteStatementCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../../local/dynamo/client.js';
import { type DynamoEngine, startDynamo } from '../../../local/dynamo/engine.js';
import {
  type DynamoStreamProxy,
  startDynamoStreamProxy,
} from '../../../local/streams/dynamo-stream-proxy.js';
import type {
  CapturedRecord,
  StreamTable,
  StreamViewType,
} from '../../../local/streams/stream-record.js';
import { httpRequest } from '../support/http.js';
import { within } from '../support/wait.js';

const ROOM_KEY = [
  { AttributeName: 'pk', KeyType: 'HASH' },
  { AttributeName: 'sk', KeyType: 'RANGE' },
] as const;
const ID_KEY = [{ AttributeName: 'id', KeyType: 'HASH' }] as const;

const streamTable = (
  name: string,
  viewType: StreamViewType,
  keySchema: StreamTable['keySchema'],
): StreamTable => ({
  name,
  keySchema,
  viewType,
  streamArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${name}/stream/2000-01-01T00:00:00.000`,
});
const TABLES = [
  streamTable('Rooms', 'NEW_AND_OLD_IMAGES', ROOM_KEY),
  streamTable('KeysOnly', 'KEYS_ONLY', ID_KEY),
  streamTable('NewOnly', 'NEW_IMAGE', ID_KEY),
  streamTable('OldOnly', 'OLD_IMAGE', ID_KEY),
];

let engine: DynamoEngine;
let proxy: DynamoStreamProxy;
let client: DynamoDBClient;
let direct: DynamoDBClient;
const records: CapturedRecord[] = [];
const logged: string[] = [];

beforeAll(async () => {
  engine = await startDynamo();
  direct = localDynamoClient(engine.endpoint);
  for (const { name, keySchema } of [...TABLES, { name: 'Plain', keySchema: ROOM_KEY }]) {
    await direct.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [...keySchema].map((key) => ({ ...key, KeyType: key.KeyType as 'HASH' })),
        AttributeDefinitions: keySchema.map(({ AttributeName }) => ({
          AttributeName,
          AttributeType: 'S',
        })),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  proxy = await startDynamoStreamProxy({
    target: engine.endpoint,
    tables: TABLES,
    // Items under `ignored#` are of no interest to any reader.
    wanted: (_, key) => !String(key.pk?.S).startsWith('ignored#'),
    publish: (captured) => records.push(captured),
    region: 'us-east-1',
    log: (line) => logged.push(line),
  });
  client = localDynamoClient(proxy.endpoint, { maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  direct.destroy();
  await proxy.close();
  await engine.stop();
});

beforeEach(() => {
  records.length = 0;
  logged.length = 0;
});

/** The records captured so far, once every capture in progress has finished. */
async function captured(): Promise<CapturedRecord[]> {
  await within(proxy.idle(), 2000, 'the captures to finish');
  return [...records];
}

const room = (pk: string, sk: string): Record<string, AttributeValue> => ({
  pk: { S: pk },
  sk: { S: sk },
});

describe('the DynamoDB stream capture proxy', () => {
  it('writes INSERT, MODIFY and REMOVE records as an item is put, updated and deleted', async () => {
    const key = room('room#a', 'member#ann');
    await client.send(
      new PutItemCommand({ TableName: 'Rooms', Item: { ...key, conns: { SS: ['c1'] } } }),
    );
    await client.send(
      new UpdateItemCommand({
        TableName: 'Rooms',
        Key: key,
        UpdateExpression: 'ADD conns :c',
        ExpressionAttributeValues: { ':c': { SS: ['c2'] } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: 'Rooms', Key: key }));

    const [inserted, modified, removed] = (await captured()).map((entry) => entry.record);
    expect(inserted).toMatchObject({
      eventName: 'INSERT',
      eventSourceARN: TABLES[0]?.streamArn,
      dynamodb: { Keys: key, NewImage: { ...key, conns: { SS: ['c1'] } } },
    });
    expect(inserted?.dynamodb.OldImage).toBeUndefined();
    expect(modified).toMatchObject({
      eventName: 'MODIFY',
      dynamodb: {
        OldImage: { conns: { SS: ['c1'] } },
        NewImage: { conns: { SS: expect.arrayContaining(['c1', 'c2']) } },
      },
    });
    expect(removed).toMatchObject({ eventName: 'REMOVE', dynamodb: { Keys: key } });
    expect(removed?.dynamodb.NewImage).toBeUndefined();
    const sequence = [inserted, modified, removed].map((record) =>
      BigInt(record?.dynamodb.SequenceNumber ?? 0),
    );
    expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(sequence).size).toBe(3);
  });

  it('writes no record for a write that changes nothing', async () => {
    const key = room('room#b', 'member#bob');
    await client.send(new PutItemCommand({ TableName: 'Rooms', Item: { ...key, n: { N: '1' } } }));
    await captured();
    records.length = 0;

    await client.send(
      new PutItemCommand({ TableName: 'Rooms', Item: { ...key, n: { N: '1.0' } } }),
    );
    await client.send(
      new UpdateItemCommand({
        TableName: 'Rooms',
        Key: key,
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '1' } },
      }),
    );
    await client.send(
      new DeleteItemCommand({ TableName: 'Rooms', Key: room('room#b', 'member#nobody') }),
    );

    expect(await captured()).toEqual([]);
  });

  it('writes the images the table’s view type asks for', async () => {
    for (const name of ['KeysOnly', 'NewOnly', 'OldOnly']) {
      await client.send(
        new PutItemCommand({ TableName: name, Item: { id: { S: 'x' }, v: { S: '1' } } }),
      );
      await client.send(
        new PutItemCommand({ TableName: name, Item: { id: { S: 'x' }, v: { S: '2' } } }),
      );
    }

    const modified = (await captured())
      .filter((entry) => entry.record.eventName === 'MODIFY')
      .map(({ table, record }) => [
        table,
        record.dynamodb.StreamViewType,
        record.dynamodb.OldImage,
        record.dynamodb.NewImage,
      ]);
    expect(modified).toEqual([
      ['KeysOnly', 'KEYS_ONLY', undefined, undefined],
      ['NewOnly', 'NEW_IMAGE', undefined, { id: { S: 'x' }, v: { S: '2' } }],
      ['OldOnly', 'OLD_IMAGE', { id: { S: 'x' }, v: { S: '1' } }, undefined],
    ]);
  });

  it('keeps one item’s records in write order under concurrent writes, each old image the previous new one', async () => {
    const key = room('room#c', 'member#cat');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        client.send(
          new UpdateItemCommand({
            TableName: 'Rooms',
            Key: key,
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        ),
      ),
    );

    const counts = (await captured()).map(({ record }) => [
      record.dynamodb.OldImage?.n?.N,
      record.dynamodb.NewImage?.n?.N,
    ]);
    expect(counts).toEqual(
      Array.from({ length: 20 }, (_, index) => [
        index === 0 ? undefined : String(index),
        String(index + 1),
      ]),
    );
  });

  it('writes nothing for a refused conditional write and answers the caller with the refusal', async () => {
    const key = room('room#d', 'member#dan');

    await expect(
      client.send(
        new UpdateItemCommand({
          TableName: 'Rooms',
          Key: key,
          UpdateExpression: 'SET v = :v',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':v': { S: 'x' } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await captured()).toEqual([]);
    const { Item } = await direct.send(new GetItemCommand({ TableName: 'Rooms', Key: key }));
    expect(Item).toBeUndefined();
  });

  it('answers a captured write with exactly the engine’s answer to it', async () => {
    const write = (table: string) =>
      JSON.stringify({
        TableName: table,
        Key: room('room#e', 'member#eve'),
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { S: 'x' } },
        ReturnValues: 'ALL_NEW',
        ReturnConsumedCapacity: 'TOTAL',
      });
    const send = (endpoint: string, body: string) =>
      httpRequestWithTarget(endpoint, 'DynamoDB_20120810.UpdateItem', body);

    const proxied = await send(proxy.endpoint, write('Rooms'));
    const plain = await send(engine.endpoint, write('Plain'));

    expect(proxied.status).toBe(200);
    expect(proxied.body).toBe(plain.body.replace('"Plain"', '"Rooms"'));
    expect(proxied.headers['content-type']).toBe(plain.headers['content-type']);
    expect(await captured()).toHaveLength(1);
  });

  it('passes writes to unwanted items and to tables without a stream straight through', async () => {
    await client.send(new PutItemCommand({ TableName: 'Rooms', Item: room('ignored#f', 'x') }));
    await client.send(new PutItemCommand({ TableName: 'Plain', Item: room('room#f', 'x') }));

    expect(await captured()).toEqual([]);
    const { Item } = await direct.send(
      new GetItemCommand({ TableName: 'Rooms', Key: room('ignored#f', 'x') }),
    );
    expect(Item).toEqual(room('ignored#f', 'x'));
  });

  it('writes a record for each item a BatchWriteItem changed', async () => {
    await client.send(new PutItemCommand({ TableName: 'Rooms', Item: room('room#g', 'old') }));
    await captured();
    records.length = 0;

    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          Rooms: [
            { PutRequest: { Item: room('room#g', 'one') } },
            { PutRequest: { Item: room('room#g', 'two') } },
            { DeleteRequest: { Key: room('room#g', 'old') } },
          ],
          Plain: [{ PutRequest: { Item: room('room#g', 'plain') } }],
        },
      }),
    );

    const changes = (await captured()).map(({ record }) => [
      record.eventName,
      record.dynamodb.Keys.sk?.S,
    ]);
    expect(changes).toEqual([
      ['INSERT', 'one'],
      ['INSERT', 'two'],
      ['REMOVE', 'old'],
    ]);
  });

  it('refuses a PartiQL write to a stream-enabled table with a local error, changing nothing', async () => {
    await expect(
      client.send(
        new ExecuteStatementCommand({
          Statement: `INSERT INTO "Rooms" VALUE {'pk': 'room#h', 'sk': 'x'}`,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('PartiQL'),
    });
    expect(await captured()).toEqual([]);
    expect(logged).toEqual([expect.stringContaining('PartiQL')]);
  });
});

/** A raw DynamoDB request, so answers can be compared byte for byte. */
function httpRequestWithTarget(endpoint: string, target: string, body: string) {
  return httpRequest('POST', endpoint, body, 5000, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': target,
    'x-amz-date': '20260101T000000Z',
    authorization:
      'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  });
}
