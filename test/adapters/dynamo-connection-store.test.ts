import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../lambdas/adapters/dynamo-connection-store.js';
import { sweepShardOf } from '../../lambdas/adapters/table-keys.js';

const TABLE = 'table-under-test';
const NOW = 1_700_000_000_000;
const NOW_SEC = NOW / 1000;
/** The limiter keeps time in whole microseconds. */
const NOW_US = NOW * 1000;
const KEY = { userId: 'u1', connectionId: 'c1' };
const DB_KEY = { pk: 'user#u1', sk: 'conn#c1' };
const LIVE_EXP = NOW_SEC + 3600;

const IDLE_CONDITION =
  'attribute_exists(pk) AND expiresAt > :nowSec AND (attribute_not_exists(#tat) OR #tat <= :now)';
const BUSY_CONDITION =
  'attribute_exists(pk) AND expiresAt > :nowSec AND #tat > :now AND #tat <= :limit';
const ROOM_LIMIT_CONDITION =
  '(attribute_not_exists(#rooms) OR size(#rooms) < :maxRooms OR contains(#rooms, :roomName))';

const documentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  }),
  { marshallOptions: { removeUndefinedValues: true } },
);
const ddb = mockClient(documentClient);

const newStore = () => new DynamoConnectionStore(documentClient, TABLE, { rateLimitPerSecond: 10 });

/** The error DynamoDB returns with ReturnValuesOnConditionCheckFailure: ALL_OLD, item unmarshalled by nobody. */
function conditionFailed(item?: {
  tat?: number;
  expiresAt?: number;
  renewedExp?: number;
  rooms?: ReadonlySet<string>;
}): ConditionalCheckFailedException {
  const raw: Record<string, { S: string } | { N: string } | { SS: string[] }> = {
    pk: { S: DB_KEY.pk },
    sk: { S: DB_KEY.sk },
  };
  if (item?.tat !== undefined) raw.tat = { N: String(item.tat) };
  if (item?.expiresAt !== undefined) raw.expiresAt = { N: String(item.expiresAt) };
  if (item?.renewedExp !== undefined) raw.renewedExp = { N: String(item.renewedExp) };
  if (item?.rooms !== undefined) raw.rooms = { SS: [...item.rooms] };
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item === undefined ? {} : { Item: raw }),
  });
}

function updateInputs(): UpdateCommandInput[] {
  return ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
}

const DECIMAL_SCALE = 10n ** 24n;

/** A non-negative JS number as the exact decimal its serialized text denotes, scaled by 10^24. */
function toDecimal(value: number): bigint {
  const text = String(value);
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`unsupported number ${text}`);
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * DECIMAL_SCALE + BigInt(fraction.padEnd(24, '0'));
}

function fromDecimal(value: bigint): string {
  const fraction = (value % DECIMAL_SCALE).toString().padStart(24, '0').replace(/0+$/, '');
  const whole = (value / DECIMAL_SCALE).toString();
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

beforeEach(() => {
  ddb.reset();
});

describe('DynamoConnectionStore.put', () => {
  it('writes the connection under its user with a TTL three hours after connecting and its sweep shard', async () => {
    ddb.on(PutCommand).resolves({});

    await newStore().put({ userId: 'u1', connectionId: 'c1', name: 'Ada', connectedAt: NOW + 999 });

    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: 'user#u1',
        sk: 'conn#c1',
        connectionId: 'c1',
        userId: 'u1',
        name: 'Ada',
        connectedAt: NOW + 999,
        expiresAt: NOW_SEC + 3 * 3600,
        sweepShard: `sweep#${sweepShardOf('c1')}`,
      },
    });
  });
});

describe('DynamoConnectionStore.sweepPages', () => {
  it('queries one shard of the sweep index for records connected before the cutoff, page by page', async () => {
    const next = { pk: 'user#u1', sk: 'conn#c1', sweepShard: 'sweep#3', connectedAt: 5 };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ userId: 'u1', connectionId: 'c1', name: 'Ada' }],
        LastEvaluatedKey: next,
      })
      .resolvesOnce({ Items: [{ userId: 'u2', connectionId: 'c2', name: 'Bo' }] });

    const pages = [];
    for await (const page of newStore().sweepPages(3, NOW)) pages.push(page);

    expect(pages).toEqual([
      [{ userId: 'u1', connectionId: 'c1', name: 'Ada' }],
      [{ userId: 'u2', connectionId: 'c2', name: 'Bo' }],
    ]);
    const inputs = ddb.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toEqual({
      TableName: TABLE,
      IndexName: 'bySweepShard',
      KeyConditionExpression: 'sweepShard = :shard AND connectedAt < :before',
      ExpressionAttributeValues: { ':shard': 'sweep#3', ':before': NOW },
      Limit: 500,
      ExclusiveStartKey: undefined,
    });
    expect(inputs[1]?.ExclusiveStartKey).toEqual(next);
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
  });
});

describe('DynamoConnectionStore.listByUser', () => {
  it("reads every page of the user's partition consistently and drops expired records", async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const pageTwoKey = { pk: 'user#u1', sk: 'conn#c2' };
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          { connectionId: 'c1', userId: 'u1', name: 'Ada', expiresAt: nowSec + 3600 },
          { connectionId: 'c2', userId: 'u1', name: 'Ada', expiresAt: nowSec - 60 },
        ],
        LastEvaluatedKey: pageTwoKey,
      })
      .resolvesOnce({
        Items: [{ connectionId: 'c3', userId: 'u1', name: 'Ada', expiresAt: nowSec + 3600 }],
      });

    const found = await newStore().listByUser('u1');

    expect(found).toEqual([
      { userId: 'u1', connectionId: 'c1', name: 'Ada' },
      { userId: 'u1', connectionId: 'c3', name: 'Ada' },
    ]);
    const calls = ddb.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    const query = {
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': 'user#u1', ':prefix': 'conn#' },
      ProjectionExpression: 'connectionId, userId, #name, expiresAt',
      ExpressionAttributeNames: { '#name': 'name' },
      ConsistentRead: true,
    };
    expect(calls[0]?.args[0].input).toEqual({ ...query, ExclusiveStartKey: undefined });
    expect(calls[1]?.args[0].input).toEqual({ ...query, ExclusiveStartKey: pageTwoKey });
  });

  it('finds nobody in an empty partition', async () => {
    ddb.on(QueryCommand).resolves({});

    await expect(newStore().listByUser('u1')).resolves.toEqual([]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});

describe('DynamoConnectionStore.admit', () => {
  it('admits an idle connection with one conditional write and returns its rooms', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: {
        ...DB_KEY,
        tat: NOW_US + 100_000,
        expiresAt: LIVE_EXP,
        rooms: new Set(['lobby']),
      },
    });

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set(['lobby']) } });
    expect(updateInputs()).toEqual([
      {
        TableName: TABLE,
        Key: DB_KEY,
        UpdateExpression: 'SET #tat = :next',
        ConditionExpression: IDLE_CONDITION,
        ExpressionAttributeNames: { '#tat': 'tat' },
        ExpressionAttributeValues: {
          ':now': NOW_US,
          ':nowSec': NOW_SEC,
          ':next': NOW_US + 100_000,
        },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    ]);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('adds a joined room in the same write that admits the request', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { tat: NOW_US + 100_000, expiresAt: LIVE_EXP, rooms: new Set(['lobby', 'r1']) },
    });

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { joinRoom: 'r1', maxRooms: 3 },
    });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set(['lobby', 'r1']) } });
    expect(updateInputs()).toHaveLength(1);
    expect(updateInputs()[0]).toMatchObject({
      Key: DB_KEY,
      UpdateExpression: 'SET #tat = :next ADD #rooms :room',
      ConditionExpression: `${IDLE_CONDITION} AND ${ROOM_LIMIT_CONDITION}`,
      ExpressionAttributeNames: { '#tat': 'tat', '#rooms': 'rooms' },
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':next': NOW_US + 100_000,
        ':room': new Set(['r1']),
        ':maxRooms': 3,
        ':roomName': 'r1',
      },
    });
  });

  it('refuses a join beyond the room limit in the same write, with no second write', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(
        conditionFailed({ tat: NOW_US - 1, expiresAt: LIVE_EXP, rooms: new Set(['a', 'b', 'c']) }),
      );

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { joinRoom: 'r1', maxRooms: 3 },
    });

    expect(outcome).toEqual({ kind: 'room_limit' });
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('reports the rate limit before the room limit, as PROTOCOL.md orders them', async () => {
    ddb.on(UpdateCommand).rejects(
      conditionFailed({
        tat: NOW_US + 1911_000,
        expiresAt: LIVE_EXP,
        rooms: new Set(['a', 'b', 'c']),
      }),
    );

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { joinRoom: 'r1', maxRooms: 3 },
    });

    expect(outcome).toEqual({ kind: 'rate_limited' });
  });

  it('deletes a left room in the same write that admits the request', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { tat: NOW_US + 100_000, expiresAt: LIVE_EXP } });

    const outcome = await newStore().admit({ key: KEY, now: NOW, change: { leaveRoom: 'r1' } });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set() } });
    expect(updateInputs()).toHaveLength(1);
    expect(updateInputs()[0]).toMatchObject({
      UpdateExpression: 'SET #tat = :next DELETE #rooms :room',
      ExpressionAttributeNames: { '#tat': 'tat', '#rooms': 'rooms' },
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':next': NOW_US + 100_000,
        ':room': new Set(['r1']),
      },
    });
  });

  it('stores a renewed exp in the same write and returns it', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { tat: NOW_US + 100_000, expiresAt: LIVE_EXP, renewedExp: NOW_SEC + 900 },
    });

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { renewExp: NOW_SEC + 900 },
    });

    expect(outcome).toEqual({
      kind: 'admitted',
      connection: { rooms: new Set(), renewedExp: NOW_SEC + 900 },
    });
    expect(updateInputs()).toHaveLength(1);
    expect(updateInputs()[0]).toMatchObject({
      UpdateExpression: 'SET #tat = :next, renewedExp = :renewExp',
      ExpressionAttributeNames: { '#tat': 'tat' },
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':next': NOW_US + 100_000,
        ':renewExp': NOW_SEC + 900,
      },
    });
  });

  it('retries with the busy condition when the stored tat is ahead but within the tolerance', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed({ tat: NOW_US + 500_000, expiresAt: LIVE_EXP }))
      .resolvesOnce({
        Attributes: { tat: NOW_US + 600_000, expiresAt: LIVE_EXP, rooms: new Set(['lobby']) },
      });

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { joinRoom: 'lobby', maxRooms: 3 },
    });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set(['lobby']) } });
    const inputs = updateInputs();
    expect(inputs).toHaveLength(2);
    expect(inputs[0]?.ConditionExpression).toBe(`${IDLE_CONDITION} AND ${ROOM_LIMIT_CONDITION}`);
    expect(inputs[1]).toEqual({
      TableName: TABLE,
      Key: DB_KEY,
      UpdateExpression: 'SET #tat = #tat + :interval ADD #rooms :room',
      ConditionExpression: `${BUSY_CONDITION} AND ${ROOM_LIMIT_CONDITION}`,
      ExpressionAttributeNames: { '#tat': 'tat', '#rooms': 'rooms' },
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        // 19 intervals of 100 ms, and 10 ms for arrivals written out of order.
        ':limit': NOW_US + 1_910_000,
        ':interval': 100_000,
        ':room': new Set(['lobby']),
        ':maxRooms': 3,
        ':roomName': 'lobby',
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('rate-limits without another write when the stored tat is beyond the tolerance', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ tat: NOW_US + 1911_000, expiresAt: LIVE_EXP }));

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { joinRoom: 'r1', maxRooms: 3 },
    });

    expect(outcome).toEqual({ kind: 'rate_limited' });
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('gives up as rate-limited after losing three races to concurrent requests', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ tat: NOW_US + 500_000, expiresAt: LIVE_EXP }));

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'rate_limited' });
    expect(updateInputs().map((input) => input.ConditionExpression)).toEqual([
      IDLE_CONDITION,
      BUSY_CONDITION,
      BUSY_CONDITION,
    ]);
  });

  describe('against a table that evaluates the GCRA conditions', () => {
    // DynamoDB numbers are decimals (38 digits), so `#tat + :interval` is exact decimal
    // arithmetic on the numbers as the SDK serializes them (JavaScript's shortest form).
    let row: { tat?: bigint; expiresAt: number };
    const tatNumber = () => (row.tat === undefined ? undefined : Number(fromDecimal(row.tat)));

    beforeEach(() => {
      row = { expiresAt: LIVE_EXP };
      ddb.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
        const values = input.ExpressionAttributeValues ?? {};
        const now = toDecimal(values[':now'] as number);
        const tat = row.tat;
        let next: bigint | undefined;
        if (input.ConditionExpression === IDLE_CONDITION) {
          if (tat === undefined || tat <= now) next = toDecimal(values[':next'] as number);
        } else if (input.ConditionExpression === BUSY_CONDITION) {
          if (tat !== undefined && tat > now && tat <= toDecimal(values[':limit'] as number)) {
            next = tat + toDecimal(values[':interval'] as number);
          }
        } else {
          throw new Error(`unexpected condition ${input.ConditionExpression}`);
        }
        if (!(row.expiresAt > (values[':nowSec'] as number)) || next === undefined) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
            Item: {
              pk: { S: DB_KEY.pk },
              sk: { S: DB_KEY.sk },
              expiresAt: { N: String(row.expiresAt) },
              ...(tat === undefined ? {} : { tat: { N: fromDecimal(tat) } }),
            },
          });
        }
        row.tat = next;
        return { Attributes: { ...DB_KEY, expiresAt: row.expiresAt, tat: tatNumber() } };
      });
    });

    it('admits a burst of exactly twice the rate at one instant, then one more per interval', async () => {
      const store = newStore();
      const kinds: string[] = [];
      for (let i = 0; i < 21; i++) {
        kinds.push((await store.admit({ key: KEY, now: NOW })).kind);
      }

      expect(kinds.slice(0, 20)).toEqual(Array(20).fill('admitted'));
      expect(kinds[20]).toBe('rate_limited');
      // The refused request left the bucket as it was.
      expect(tatNumber()).toBe(NOW_US + 2_000_000);
      // The per-instance hint sends every request after the first straight to the busy branch.
      expect(updateInputs()).toHaveLength(21);

      // A token comes back each interval (100 ms), less the 10 ms reordering slack.
      expect((await store.admit({ key: KEY, now: NOW + 89 })).kind).toBe('rate_limited');
      expect((await store.admit({ key: KEY, now: NOW + 90 })).kind).toBe('admitted');
      expect((await store.admit({ key: KEY, now: NOW + 90 })).kind).toBe('rate_limited');
    });

    it('admits the whole burst when instances write its arrivals out of order', async () => {
      // Twenty requests of one burst, arriving over 4 ms (API Gateway's
      // requestTimeEpoch is in whole ms), written latest first, each by
      // another, freshly started instance.
      const arrivals = Array.from(
        { length: 20 },
        (_, i) => NOW + 1_000 + Math.floor(i / 5),
      ).reverse();
      const kinds: string[] = [];
      for (const now of arrivals) kinds.push((await newStore().admit({ key: KEY, now })).kind);

      expect(kinds).toEqual(Array(20).fill('admitted'));
      expect((await newStore().admit({ key: KEY, now: NOW + 1_003 })).kind).toBe('rate_limited');
    });

    it('holds the limit across instances that share the table', async () => {
      const first = newStore();
      for (let i = 0; i < 20; i++) {
        expect((await first.admit({ key: KEY, now: NOW })).kind).toBe('admitted');
      }

      const cold = newStore();
      expect((await cold.admit({ key: KEY, now: NOW })).kind).toBe('rate_limited');
      expect((await cold.admit({ key: KEY, now: NOW + 100 })).kind).toBe('admitted');
    });

    it('admits a burst of exactly twice the rate when the interval is not a whole number of ms', async () => {
      const store = new DynamoConnectionStore(documentClient, TABLE, { rateLimitPerSecond: 6 });
      const kinds: string[] = [];
      for (let i = 0; i < 13; i++) {
        kinds.push((await store.admit({ key: KEY, now: NOW })).kind);
      }

      expect(kinds.filter((kind) => kind === 'admitted')).toHaveLength(12);
      expect(kinds[12]).toBe('rate_limited');
    });

    it('refills the whole burst after two seconds without requests', async () => {
      const store = newStore();
      for (let i = 0; i < 20; i++) await store.admit({ key: KEY, now: NOW });

      const later = NOW + 2000;
      const kinds: string[] = [];
      for (let i = 0; i < 21; i++) {
        kinds.push((await store.admit({ key: KEY, now: later })).kind);
      }

      expect(kinds.filter((kind) => kind === 'admitted')).toHaveLength(20);
      expect(kinds[20]).toBe('rate_limited');
    });
  });

  it('requires a renewal of at least the given exp in the condition', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { tat: NOW_US + 100_000, expiresAt: LIVE_EXP, renewedExp: NOW_SEC + 60 },
    });

    const outcome = await newStore().admit({ key: KEY, now: NOW, renewedExpAtLeast: NOW_SEC });

    expect(outcome).toEqual({
      kind: 'admitted',
      connection: { rooms: new Set(), renewedExp: NOW_SEC + 60 },
    });
    expect(updateInputs()[0]).toMatchObject({
      ConditionExpression: `${IDLE_CONDITION} AND renewedExp >= :minExp`,
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':next': NOW_US + 100_000,
        ':minExp': NOW_SEC,
      },
    });
  });

  it('answers token_expired when the failed record was never renewed', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ expiresAt: LIVE_EXP }));

    const outcome = await newStore().admit({ key: KEY, now: NOW, renewedExpAtLeast: NOW_SEC });

    expect(outcome).toEqual({ kind: 'token_expired' });
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('answers token_expired when the stored renewal is older than required', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed({ expiresAt: LIVE_EXP, renewedExp: NOW_SEC - 1 }));

    const outcome = await newStore().admit({ key: KEY, now: NOW, renewedExpAtLeast: NOW_SEC });

    expect(outcome).toEqual({ kind: 'token_expired' });
    expect(updateInputs()).toHaveLength(1);
  });

  it('reads the record consistently when the failure carries no item, and answers gone if absent', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({});

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'gone' });
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: TABLE, Key: DB_KEY, ConsistentRead: true },
    ]);
  });

  it('retries from the consistently read record when the failure carries no item', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed())
      .resolvesOnce({ Attributes: { tat: NOW_US + 400_000, expiresAt: LIVE_EXP } });
    ddb
      .on(GetCommand)
      .resolves({ Item: { ...DB_KEY, tat: NOW_US + 300_000, expiresAt: LIVE_EXP } });

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set() } });
    expect(updateInputs().map((input) => input.ConditionExpression)).toEqual([
      IDLE_CONDITION,
      BUSY_CONDITION,
    ]);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('recognizes a condition failure by its name alone', async () => {
    const byName = Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
    });
    ddb.on(UpdateCommand).rejects(byName);
    ddb.on(GetCommand).resolves({});

    await expect(newStore().admit({ key: KEY, now: NOW })).resolves.toEqual({ kind: 'gone' });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  it('answers gone for a record whose TTL has passed', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ tat: NOW - 5000, expiresAt: NOW_SEC }));

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'gone' });
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('lets errors other than a failed condition propagate', async () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: 'slow down',
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(UpdateCommand).rejects(throttled);

    await expect(newStore().admit({ key: KEY, now: NOW })).rejects.toBe(throttled);
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('DynamoConnectionStore.remove', () => {
  it('deletes the record and returns the rooms it had joined', async () => {
    ddb.on(DeleteCommand).resolves({
      Attributes: { ...DB_KEY, expiresAt: LIVE_EXP, rooms: new Set(['a', 'b']) },
    });

    const removed = await newStore().remove(KEY);

    expect(removed).toEqual({ kind: 'removed', rooms: ['a', 'b'] });
    expect(ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: TABLE, Key: DB_KEY, ReturnValues: 'ALL_OLD' },
    ]);
  });

  it('returns no rooms for a connection that joined none', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { ...DB_KEY, expiresAt: LIVE_EXP } });

    await expect(newStore().remove(KEY)).resolves.toEqual({ kind: 'removed', rooms: [] });
  });

  it('reports a connection that was absent', async () => {
    ddb.on(DeleteCommand).resolves({});

    await expect(newStore().remove(KEY)).resolves.toEqual({ kind: 'absent' });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
  });

  it('deletes only a record that has sent a request or connected before the given time, when asked', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { ...DB_KEY, expiresAt: LIVE_EXP } });

    await newStore().remove(KEY, { connectedBefore: NOW - 30_000 });

    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: DB_KEY,
      ConditionExpression:
        'attribute_not_exists(pk) OR attribute_exists(tat) OR connectedAt < :cutoff',
      ExpressionAttributeValues: { ':cutoff': NOW - 30_000 },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('keeps a record connected too recently and says so', async () => {
    ddb.on(DeleteCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
      }),
    );

    await expect(newStore().remove(KEY, { connectedBefore: NOW })).resolves.toEqual({
      kind: 'recent',
    });
  });

  it('forgets the rate-limit hint, so a reused connection id starts idle', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { tat: NOW_US + 100_000, expiresAt: LIVE_EXP } });
    ddb.on(DeleteCommand).resolves({});
    const store = newStore();
    await store.admit({ key: KEY, now: NOW });

    await store.remove(KEY);
    await store.admit({ key: KEY, now: NOW });

    expect(updateInputs().map((input) => input.ConditionExpression)).toEqual([
      IDLE_CONDITION,
      IDLE_CONDITION,
    ]);
  });

  it('lets a failed delete propagate', async () => {
    const failure = new Error('network down');
    ddb.on(DeleteCommand).rejects(failure);

    await expect(newStore().remove(KEY)).rejects.toBe(failure);
  });
});

describe('DynamoConnectionStore.forgetRoom', () => {
  it('deletes the room from an existing record only, counting nothing against the rate limit', async () => {
    ddb.on(UpdateCommand).resolves({});

    await newStore().forgetRoom(KEY, 'lobby');

    expect(updateInputs()).toEqual([
      {
        TableName: TABLE,
        Key: DB_KEY,
        UpdateExpression: 'DELETE #rooms :room',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#rooms': 'rooms' },
        ExpressionAttributeValues: { ':room': new Set(['lobby']) },
      },
    ]);
  });

  it('does nothing for a record that is gone', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());

    await expect(newStore().forgetRoom(KEY, 'lobby')).resolves.toBeUndefined();
  });
});
