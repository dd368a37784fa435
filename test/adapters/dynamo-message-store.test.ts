import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoMessageStore } from '../../lambdas/adapters/dynamo-message-store.js';
import { LAST_MESSAGE_SK } from '../../lambdas/adapters/table-keys.js';
import type { MessageFrame } from '../../protocol/messages.js';

const TABLE = 'table-under-test';
const NOW = 1_700_000_000_000;
const NOW_SEC = NOW / 1000;
const LIVE_EXP = NOW_SEC + 3600;

const documentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }),
  { marshallOptions: { removeUndefinedValues: true } },
);
const ddb = mockClient(documentClient);

const newStore = () => new DynamoMessageStore(documentClient, TABLE);
const queryInputs = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);

function frame(seq: number): MessageFrame {
  return {
    type: 'message',
    room: 'lobby',
    seq,
    from: { userId: 'u1', name: 'Ada' },
    data: { text: `hello ${seq}`, nested: [1, { deep: true }] },
    ts: NOW + seq,
  };
}

function stored(seq: number, expiresAt = LIVE_EXP) {
  return {
    pk: 'room#lobby',
    sk: `msg#${String(seq).padStart(16, '0')}`,
    frame: JSON.stringify(frame(seq)),
    expiresAt,
  };
}

beforeEach(() => {
  ddb.reset();
});

describe('DynamoMessageStore.nextSeq', () => {
  it("adds one to the room head's counter and returns the new value", async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { seq: 7 } });

    await expect(newStore().nextSeq('lobby')).resolves.toBe(7);
    expect(ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Key: { pk: 'room#lobby', sk: 'member' },
        UpdateExpression: 'ADD seq :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      },
    ]);
  });

  it('fails when the counter comes back without a number', async () => {
    ddb.on(UpdateCommand).resolves({});

    await expect(newStore().nextSeq('lobby')).rejects.toThrow('The seq counter returned no number');
  });
});

describe('DynamoMessageStore.put', () => {
  it('stores the frame as JSON text under a zero-padded seq key with its TTL', async () => {
    ddb.on(PutCommand).resolves({});

    await newStore().put(frame(42), LIVE_EXP);

    expect(ddb.commandCalls(PutCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: TABLE,
        Item: {
          pk: 'room#lobby',
          sk: 'msg#0000000000000042',
          frame: JSON.stringify(frame(42)),
          expiresAt: LIVE_EXP,
        },
      },
    ]);
  });
});

describe('DynamoMessageStore.after', () => {
  const query = {
    TableName: TABLE,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': 'room#lobby',
      ':from': 'msg#0000000000000006',
      ':to': LAST_MESSAGE_SK,
    },
    ConsistentRead: true,
  };

  it('reads one more than the limit after the given seq and reports that more remain', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [stored(6), stored(7), stored(8)],
      LastEvaluatedKey: { pk: 'room#lobby', sk: 'msg#0000000000000008' },
    });

    const result = await newStore().after('lobby', 5, 2, NOW);

    expect(result).toEqual({ messages: [frame(6), frame(7)], hasMore: true });
    expect(queryInputs()).toEqual([{ ...query, Limit: 3, ExclusiveStartKey: undefined }]);
  });

  it('reports nothing more when no more than the limit remain', async () => {
    ddb.on(QueryCommand).resolves({ Items: [stored(6), stored(7)] });

    const result = await newStore().after('lobby', 5, 2, NOW);

    expect(result).toEqual({ messages: [frame(6), frame(7)], hasMore: false });
    expect(queryInputs()).toHaveLength(1);
  });

  it('starts right after seq 0 for a reader that has seen nothing', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await expect(newStore().after('lobby', 0, 50, NOW)).resolves.toEqual({
      messages: [],
      hasMore: false,
    });
    expect(queryInputs()[0]).toMatchObject({
      ExpressionAttributeValues: {
        ':pk': 'room#lobby',
        ':from': 'msg#0000000000000001',
        ':to': LAST_MESSAGE_SK,
      },
      Limit: 51,
    });
  });

  it('skips expired messages and keeps paging until it has enough', async () => {
    const pageOneKey = { pk: 'room#lobby', sk: 'msg#0000000000000008' };
    const pageTwoKey = { pk: 'room#lobby', sk: 'msg#0000000000000010' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [stored(6), stored(7, NOW_SEC), stored(8, NOW_SEC - 60)],
        LastEvaluatedKey: pageOneKey,
      })
      .resolvesOnce({ Items: [stored(9), stored(10)], LastEvaluatedKey: pageTwoKey })
      .resolves({ Items: [stored(11)] });

    const result = await newStore().after('lobby', 5, 2, NOW);

    expect(result).toEqual({ messages: [frame(6), frame(9)], hasMore: true });
    expect(queryInputs()).toEqual([
      { ...query, Limit: 3, ExclusiveStartKey: undefined },
      { ...query, Limit: 2, ExclusiveStartKey: pageOneKey },
    ]);
  });

  it('reads on when expired messages leave it exactly at the limit, to learn whether more remain', async () => {
    const pageOneKey = { pk: 'room#lobby', sk: 'msg#0000000000000008' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [stored(6), stored(7, NOW_SEC - 1), stored(8)],
        LastEvaluatedKey: pageOneKey,
      })
      .resolvesOnce({ Items: [stored(9)] });

    const result = await newStore().after('lobby', 5, 2, NOW);

    expect(result).toEqual({ messages: [frame(6), frame(8)], hasMore: true });
    expect(queryInputs()).toEqual([
      { ...query, Limit: 3, ExclusiveStartKey: undefined },
      { ...query, Limit: 1, ExclusiveStartKey: pageOneKey },
    ]);
  });

  it('answers an empty page for an after beyond every stored seq', async () => {
    // DynamoDB rejects BETWEEN with a lower bound above the upper one.
    ddb.on(QueryCommand).callsFake((input: QueryCommandInput) => {
      const values = input.ExpressionAttributeValues ?? {};
      if (String(values[':from']) > String(values[':to'])) {
        throw Object.assign(new Error('Invalid KeyConditionExpression'), {
          name: 'ValidationException',
        });
      }
      return { Items: [] };
    });
    const after = 2_000_000_000_000_000;

    await expect(newStore().after('lobby', after, 50, NOW)).resolves.toEqual({
      messages: [],
      hasMore: false,
    });
    expect(queryInputs()[0]?.ExpressionAttributeValues).toEqual({
      ':pk': 'room#lobby',
      ':from': 'msg#2000000000000001',
      ':to': 'msg#9999999999999999',
    });
  });

  it('stops at the end of the partition when too few live messages remain', async () => {
    const pageOneKey = { pk: 'room#lobby', sk: 'msg#0000000000000008' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [stored(6, NOW_SEC - 1), stored(7), stored(8, NOW_SEC)],
        LastEvaluatedKey: pageOneKey,
      })
      .resolvesOnce({ Items: [] });

    const result = await newStore().after('lobby', 5, 2, NOW);

    expect(result).toEqual({ messages: [frame(7)], hasMore: false });
    expect(queryInputs()).toEqual([
      { ...query, Limit: 3, ExclusiveStartKey: undefined },
      { ...query, Limit: 2, ExclusiveStartKey: pageOneKey },
    ]);
  });
});
