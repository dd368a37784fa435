import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoRoomStore } from '../../lambdas/adapters/dynamo-room-store.js';
import type { Member } from '../../lambdas/domain/ports.js';
import { useEngineTable } from '../support/realtime-table.js';

const TABLE = 'table-under-test';
const NOW = 1_700_000_000_000;
const NOW_SEC = NOW / 1000;
const LIVE_EXP = NOW_SEC + 3600;
const ADA = { userId: 'u1', name: 'Ada' };
const MEMBER_KEY = { pk: 'room#lobby', sk: 'member#u1' };

const documentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }),
  { marshallOptions: { removeUndefinedValues: true } },
);
const ddb = mockClient(documentClient);

const newStore = () => new DynamoRoomStore(documentClient, TABLE, () => NOW);

const updateInputs = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
const queryInputs = () => ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);

async function allPages(pages: AsyncIterable<readonly Member[]>): Promise<(readonly Member[])[]> {
  const collected: (readonly Member[])[] = [];
  for await (const page of pages) collected.push(page);
  return collected;
}

beforeEach(() => {
  ddb.reset();
});

describe('DynamoRoomStore.addConnection', () => {
  it("adds the connection to the user's set", async () => {
    ddb.on(UpdateCommand).resolves({});

    const result = await newStore().addConnection('lobby', ADA, 'c1');

    expect(result).toEqual({ alreadyIn: false });
    expect(updateInputs()).toEqual([
      {
        TableName: TABLE,
        Key: MEMBER_KEY,
        UpdateExpression: 'ADD conns :conn SET userId = :userId, #name = :name, expiresAt = :exp',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: {
          ':conn': new Set(['c1']),
          ':userId': 'u1',
          ':name': 'Ada',
          ':exp': NOW_SEC + 3 * 3600,
        },
        ReturnValues: 'UPDATED_OLD',
      },
    ]);
  });

  it('reports a connection that is not yet in a set that holds another one', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { conns: new Set(['c0']), userId: 'u1', name: 'Ada', expiresAt: LIVE_EXP },
    });

    const result = await newStore().addConnection('lobby', ADA, 'c1');

    expect(result).toEqual({ alreadyIn: false });
    expect(updateInputs()).toHaveLength(1);
  });

  it('reports a connection that was in the room already', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { conns: new Set(['c1']), userId: 'u1', name: 'Ada', expiresAt: LIVE_EXP },
    });

    const result = await newStore().addConnection('lobby', ADA, 'c1');

    expect(result).toEqual({ alreadyIn: true });
  });

  it('treats a record left without connections as absent', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { userId: 'u1', name: 'Ada', expiresAt: LIVE_EXP },
    });

    await expect(newStore().addConnection('lobby', ADA, 'c1')).resolves.toEqual({
      alreadyIn: false,
    });
    expect(updateInputs()).toHaveLength(1);
  });

  it('treats an expired record as absent and resets its set to the new connection', async () => {
    ddb
      .on(UpdateCommand)
      .resolvesOnce({
        Attributes: { conns: new Set(['stale']), userId: 'u1', name: 'Ada', expiresAt: NOW_SEC },
      })
      .resolvesOnce({});

    const result = await newStore().addConnection('lobby', ADA, 'c1');

    expect(result).toEqual({ alreadyIn: false });
    const inputs = updateInputs();
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toEqual({
      TableName: TABLE,
      Key: MEMBER_KEY,
      UpdateExpression: 'SET conns = :only',
      ExpressionAttributeValues: { ':only': new Set(['c1']) },
    });
  });

  it('lets a failed write propagate', async () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: 'slow down',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(UpdateCommand).rejects(throttled);

    await expect(newStore().addConnection('lobby', ADA, 'c1')).rejects.toBe(throttled);
  });
});

describe('DynamoRoomStore.removeConnection', () => {
  it('deletes the connection from an existing record only', async () => {
    ddb.on(UpdateCommand).resolves({});

    await expect(newStore().removeConnection('lobby', 'u1', 'c1')).resolves.toBeUndefined();

    expect(updateInputs()).toEqual([
      {
        TableName: TABLE,
        Key: MEMBER_KEY,
        UpdateExpression: 'DELETE conns :conn',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':conn': new Set(['c1']) },
      },
    ]);
  });

  it('tolerates a record that is missing, writing once', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));

    await expect(newStore().removeConnection('lobby', 'u1', 'c1')).resolves.toBeUndefined();
    expect(updateInputs()).toHaveLength(1);
  });

  it('lets errors other than a failed condition propagate', async () => {
    const failure = new Error('network down');
    ddb.on(UpdateCommand).rejects(failure);

    await expect(newStore().removeConnection('lobby', 'u1', 'c1')).rejects.toBe(failure);
  });
});

describe('DynamoRoomStore.memberPages', () => {
  const query = {
    TableName: TABLE,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': 'room#lobby', ':prefix': 'member#' },
    ConsistentRead: true,
  };

  it('yields every page of live members with connections, skipping the room head', async () => {
    const pageTwoKey = { pk: 'room#lobby', sk: 'member#u3' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          { pk: 'room#lobby', sk: 'member', seq: 9 },
          {
            sk: 'member#u1',
            userId: 'u1',
            name: 'Ada',
            conns: new Set(['c1', 'c2']),
            expiresAt: LIVE_EXP,
          },
          {
            sk: 'member#u2',
            userId: 'u2',
            name: 'Bob',
            conns: new Set(['c3']),
            expiresAt: NOW_SEC,
          },
          { sk: 'member#u3', userId: 'u3', name: 'Cy', expiresAt: LIVE_EXP },
        ],
        LastEvaluatedKey: pageTwoKey,
      })
      .resolvesOnce({
        Items: [
          {
            sk: 'member#u4',
            userId: 'u4',
            name: 'Dee',
            conns: new Set(['c4']),
            expiresAt: LIVE_EXP,
          },
          { sk: 'member#u5', userId: 'u5', name: 'Eve', conns: new Set(), expiresAt: LIVE_EXP },
        ],
      });

    const pages = await allPages(newStore().memberPages('lobby'));

    expect(pages).toEqual([
      [{ userId: 'u1', name: 'Ada', connectionIds: ['c1', 'c2'] }],
      [{ userId: 'u4', name: 'Dee', connectionIds: ['c4'] }],
    ]);
    expect(queryInputs()).toEqual([
      { ...query, ExclusiveStartKey: undefined },
      { ...query, ExclusiveStartKey: pageTwoKey },
    ]);
  });

  it('never lists the room head as a member, whatever it holds', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [{ sk: 'member', seq: 3, conns: new Set(['c9']), expiresAt: LIVE_EXP }],
    });

    await expect(allPages(newStore().memberPages('lobby'))).resolves.toEqual([[]]);
  });

  it('yields one empty page for an empty room', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await expect(allPages(newStore().memberPages('lobby'))).resolves.toEqual([[]]);
    expect(queryInputs()).toHaveLength(1);
  });
});

describe('DynamoRoomStore.snapshot', () => {
  const query = {
    TableName: TABLE,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': 'room#lobby', ':prefix': 'member' },
    ConsistentRead: true,
  };

  it("reads the members and the head's seq in one query", async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { pk: 'room#lobby', sk: 'member', seq: 42 },
        {
          sk: 'member#u1',
          userId: 'u1',
          name: 'Ada',
          conns: new Set(['c1']),
          expiresAt: LIVE_EXP,
        },
        { sk: 'member#u2', userId: 'u2', name: 'Bob', conns: new Set(['c2']), expiresAt: 1 },
      ],
    });

    const snapshot = await newStore().snapshot('lobby');

    expect(snapshot).toEqual({
      members: [{ userId: 'u1', name: 'Ada', connectionIds: ['c1'] }],
      seq: 42,
    });
    expect(queryInputs()).toEqual([{ ...query, ExclusiveStartKey: undefined }]);
  });

  it('follows pages and reads seq 0 when the room has no head', async () => {
    const pageTwoKey = { pk: 'room#lobby', sk: 'member#u1' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          {
            sk: 'member#u1',
            userId: 'u1',
            name: 'Ada',
            conns: new Set(['c1']),
            expiresAt: LIVE_EXP,
          },
        ],
        LastEvaluatedKey: pageTwoKey,
      })
      .resolvesOnce({
        Items: [
          {
            sk: 'member#u2',
            userId: 'u2',
            name: 'Bob',
            conns: new Set(['c2']),
            expiresAt: LIVE_EXP,
          },
        ],
      });

    const snapshot = await newStore().snapshot('lobby');

    expect(snapshot).toEqual({
      members: [
        { userId: 'u1', name: 'Ada', connectionIds: ['c1'] },
        { userId: 'u2', name: 'Bob', connectionIds: ['c2'] },
      ],
      seq: 0,
    });
    expect(queryInputs()).toEqual([
      { ...query, ExclusiveStartKey: undefined },
      { ...query, ExclusiveStartKey: pageTwoKey },
    ]);
  });
});

describe('DynamoRoomStore.claimGone', () => {
  const WINDOW = { startMs: NOW, endMs: NOW + 60_000 };

  it("adds the ids to the window's claim item in one write and keeps the ones it held before for others", async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { gone: new Set(['c2']) } });

    const mine = await newStore().claimGone('lobby', ['c1', 'c2', 'c3'], WINDOW);

    expect(mine).toEqual(['c1', 'c3']);
    expect(updateInputs()).toEqual([
      {
        TableName: TABLE,
        Key: { pk: 'room#lobby', sk: `prune#${NOW}` },
        UpdateExpression: 'ADD gone :ids SET expiresAt = :exp',
        ExpressionAttributeValues: {
          ':ids': new Set(['c1', 'c2', 'c3']),
          ':exp': (NOW + 60_000) / 1000 + 3600,
        },
        ReturnValues: 'UPDATED_OLD',
      },
    ]);
  });

  it('writes nothing for ids this instance met in the window, and claims them in the next', async () => {
    ddb.on(UpdateCommand).resolves({});
    const store = newStore();

    await store.claimGone('lobby', ['c1'], WINDOW);
    const again = await store.claimGone('lobby', ['c1'], WINDOW);
    const elsewhere = await store.claimGone('hall', ['c1'], WINDOW);
    const next = await store.claimGone('lobby', ['c1'], {
      startMs: WINDOW.endMs,
      endMs: WINDOW.endMs + 60_000,
    });

    expect([again, elsewhere, next]).toEqual([[], ['c1'], ['c1']]);
    expect(updateInputs()).toHaveLength(3);
  });

  it('rejects when the write fails, so the caller hands them all over', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));

    await expect(newStore().claimGone('lobby', ['c1'], WINDOW)).rejects.toThrow('slow down');
  });
});

describe('DynamoRoomStore.claimGone, on dynalite', () => {
  const table = useEngineTable('dynalite');

  it('gives each gone connection to exactly one of many instances claiming at once', async () => {
    const ids = Array.from({ length: 60 }, (_, index) => `gone-${index}`);
    const instances = Array.from(
      { length: 6 },
      () => new DynamoRoomStore(table().client, table().tableName, () => NOW),
    );

    const claims = await Promise.all(
      instances.map((store) =>
        store.claimGone('storm', ids, { startMs: NOW, endMs: NOW + 60_000 }),
      ),
    );

    const all = claims.flat();
    expect(all.sort()).toEqual([...ids].sort());
    // And the member listing of the room does not see the claim item.
    const [page = []] = await allPages((instances[0] as DynamoRoomStore).memberPages('storm'));
    expect(page).toEqual([]);
  });
});
