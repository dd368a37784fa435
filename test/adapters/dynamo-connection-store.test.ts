import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../lambdas/adapters/dynamo-connection-store.js';
import { sweepShardOf } from '../../lambdas/adapters/table-keys.js';
import type { AdmitOutcome } from '../../lambdas/domain/ports.js';
import {
  describeOnEachEngine,
  registerSkippedEngineNotice,
} from '../integration/support/local-stack-fixture.js';
import { useEngineTable } from '../support/realtime-table.js';

const TABLE = 'table-under-test';
const NOW = 1_700_000_000_000;
const NOW_SEC = NOW / 1000;
/** The limiter keeps time in whole microseconds. */
const NOW_US = NOW * 1000;
const KEY = { userId: 'u1', connectionId: 'c1' };
const DB_KEY = { pk: 'user#u1', sk: 'conn#c1' };
const LIVE_EXP = NOW_SEC + 3600;
/** At 10 a second: one token a tenth of a second, a bucket of 20. */
const INTERVAL_US = 100_000;
const TOLERANCE_US = 19 * INTERVAL_US;

const IN_ORDER = '(attribute_not_exists(#arr) OR #arr <= :now)';
const IDLE_CONDITION = `attribute_exists(pk) AND expiresAt > :nowSec AND ${IN_ORDER} AND (attribute_not_exists(#tat) OR #tat <= :now)`;
const BUSY_CONDITION = `attribute_exists(pk) AND expiresAt > :nowSec AND ${IN_ORDER} AND #tat > :now AND #tat <= :limit`;
const LATE = 'attribute_exists(pk) AND expiresAt > :nowSec AND #arr > :now';
const LATE_CONDITION = `${LATE} AND #arr <= :latest AND #lead <= :maxLead AND #lag >= :credit`;
const RAISING_CONDITION = `${LATE} AND #lead <= :maxLead AND (attribute_not_exists(#lag) OR #lag <= :credit)`;
const ROOM_LIMIT_CONDITION =
  '(attribute_not_exists(#rooms) OR size(#rooms) < :maxRooms OR contains(#rooms, :roomName))';
const IDLE_UPDATE = 'SET #tat = :next, #arr = :now, #lead = :interval REMOVE #lag';
const BUSY_UPDATE = 'SET #tat = #tat + :interval, #arr = :now, #lead = #tat + :leadAfter';
const LATE_UPDATE = 'SET #tat = #tat + :interval, #lead = #lead + :interval';
const LIMITER_NAMES = { '#tat': 'tat', '#arr': 'arr', '#lead': 'lead' };
const WITH_LAG = { ...LIMITER_NAMES, '#lag': 'lag' };
const IDLE_VALUES = {
  ':now': NOW_US,
  ':nowSec': NOW_SEC,
  ':interval': INTERVAL_US,
  ':next': NOW_US + INTERVAL_US,
};

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
  arr?: number;
  lead?: number;
  lag?: number;
  expiresAt?: number;
  renewedExp?: number;
  rooms?: ReadonlySet<string>;
}): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item === undefined ? {} : { Item: marshall({ ...DB_KEY, ...item }) }),
  });
}

function updateInputs(): UpdateCommandInput[] {
  return ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  ddb.reset();
});

type Item = Record<string, unknown>;

/** Reads one update or condition expression, resolving its names and values. */
class ExpressionReader {
  private tokens: string[] = [];
  private index = 0;
  readonly namesUsed = new Set<string>();
  readonly valuesUsed = new Set<string>();

  constructor(
    private readonly names: Record<string, string>,
    private readonly values: Record<string, unknown>,
  ) {}

  read(text: string): this {
    this.tokens = text.match(/<=|>=|<>|[()=<>,+-]|[#:]?[A-Za-z_]\w*/g) ?? [];
    this.index = 0;
    return this;
  }

  peek(): string | undefined {
    return this.tokens[this.index];
  }

  next(): string {
    const token = this.tokens[this.index++];
    if (token === undefined) throw new Error('the expression ends too soon');
    return token;
  }

  skip(token: string): void {
    const got = this.next();
    if (got !== token) throw new Error(`expected ${token}, found ${got}`);
  }

  atEnd(): boolean {
    return this.index >= this.tokens.length;
  }

  path(token = this.next()): string {
    if (!token.startsWith('#')) return token;
    const name = this.names[token];
    if (name === undefined) throw new Error(`no attribute name ${token}`);
    this.namesUsed.add(token);
    return name;
  }

  value(token: string): unknown {
    if (!(token in this.values)) throw new Error(`no attribute value ${token}`);
    this.valuesUsed.add(token);
    return this.values[token];
  }
}

function disjunction(reader: ExpressionReader, item: Item): boolean {
  let holds = conjunction(reader, item);
  while (reader.peek() === 'OR') {
    reader.next();
    holds = conjunction(reader, item) || holds;
  }
  return holds;
}

function conjunction(reader: ExpressionReader, item: Item): boolean {
  let holds = comparison(reader, item);
  while (reader.peek() === 'AND') {
    reader.next();
    holds = comparison(reader, item) && holds;
  }
  return holds;
}

function comparison(reader: ExpressionReader, item: Item): boolean {
  const token = reader.peek();
  if (token === '(') {
    reader.next();
    const holds = disjunction(reader, item);
    reader.skip(')');
    return holds;
  }
  if (token === 'attribute_exists' || token === 'attribute_not_exists') {
    reader.next();
    reader.skip('(');
    const present = item[reader.path()] !== undefined;
    reader.skip(')');
    return present === (token === 'attribute_exists');
  }
  if (token === 'contains') {
    reader.next();
    reader.skip('(');
    const set = item[reader.path()];
    reader.skip(',');
    const member = operand(reader, item);
    reader.skip(')');
    return set instanceof Set && set.has(member);
  }
  const left = operand(reader, item);
  const comparator = reader.next();
  const right = operand(reader, item);
  // A missing attribute, or two of different types, compare false.
  if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) {
    return false;
  }
  const [a, b] = [left as number, right as number];
  const results: Record<string, boolean> = {
    '=': a === b,
    '<>': a !== b,
    '<': a < b,
    '<=': a <= b,
    '>': a > b,
    '>=': a >= b,
  };
  const holds = results[comparator];
  if (holds === undefined) throw new Error(`unknown comparator ${comparator}`);
  return holds;
}

function operand(reader: ExpressionReader, item: Item): unknown {
  const token = reader.next();
  if (token === 'size') {
    reader.skip('(');
    const value = item[reader.path()];
    reader.skip(')');
    return value instanceof Set ? value.size : undefined;
  }
  return token.startsWith(':') ? reader.value(token) : item[reader.path(token)];
}

function add(a: unknown, sign: string, b: unknown): number {
  if (typeof a !== 'number' || typeof b !== 'number') throw new Error('arithmetic on a non-number');
  return sign === '+' ? a + b : a - b;
}

/** The item after the update; every action reads the item as it was, as DynamoDB's do. */
function updated(reader: ExpressionReader, item: Item): Item {
  const next: Item = { ...item };
  while (!reader.atEnd()) {
    const clause = reader.next();
    do {
      const name = reader.path();
      if (clause === 'SET') {
        reader.skip('=');
        const first = operand(reader, item);
        const sign = reader.peek();
        next[name] =
          sign === '+' || sign === '-' ? add(first, reader.next(), operand(reader, item)) : first;
      } else if (clause === 'REMOVE') {
        delete next[name];
      } else if (clause === 'ADD') {
        const value = operand(reader, item);
        const old = item[name];
        next[name] =
          value instanceof Set
            ? new Set([...((old as Set<unknown> | undefined) ?? []), ...value])
            : add(old ?? 0, '+', value);
      } else if (clause === 'DELETE') {
        const value = operand(reader, item) as Set<unknown>;
        const old = (item[name] as Set<unknown> | undefined) ?? [];
        const rest = new Set([...old].filter((member) => !value.has(member)));
        if (rest.size > 0) next[name] = rest;
        else delete next[name];
      } else {
        throw new Error(`unknown clause ${clause}`);
      }
    } while (reader.peek() === ',' && reader.next());
  }
  return next;
}

/**
 * A table in memory that evaluates the expressions the store writes as DynamoDB
 * does: every action of an update reads the item as it was, a comparison with a
 * missing attribute is false, an unused name or value is an error, and a failed
 * condition carries the old item raw. Fast enough for simulations of thousands
 * of requests; the local engines run the smaller ones too.
 */
class ExpressionTable {
  private readonly items = new Map<string, Item>();
  writes = 0;

  put(input: PutCommandInput): object {
    this.items.set(this.keyOf(input.Item), { ...input.Item });
    return {};
  }

  get(input: GetCommandInput): object {
    const item = this.items.get(this.keyOf(input.Key));
    return item === undefined ? {} : { Item: item };
  }

  update(input: UpdateCommandInput): object {
    this.writes++;
    const names = input.ExpressionAttributeNames ?? {};
    const values = input.ExpressionAttributeValues ?? {};
    const reader = new ExpressionReader(names, values);
    const stored = this.items.get(this.keyOf(input.Key));
    const old = stored ?? {};
    let holds = true;
    if (input.ConditionExpression !== undefined) {
      holds = disjunction(reader.read(input.ConditionExpression), old);
      if (!reader.atEnd()) throw new Error(`unread condition after ${reader.peek()}`);
    }
    const next = updated(reader.read(input.UpdateExpression ?? ''), { ...input.Key, ...old });
    const unused = [
      ...Object.keys(names).filter((name) => !reader.namesUsed.has(name)),
      ...Object.keys(values).filter((value) => !reader.valuesUsed.has(value)),
    ];
    if (unused.length > 0) throw new Error(`unused in the expressions: ${unused.join(', ')}`);
    if (!holds) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(stored !== undefined && input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD'
          ? { Item: marshall(stored) }
          : {}),
      });
    }
    this.items.set(this.keyOf(input.Key), next);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: next } : {};
  }

  private keyOf(key: Record<string, unknown> | undefined): string {
    return `${String(key?.pk)} ${String(key?.sk)}`;
  }
}

/**
 * A document client whose commands go straight to `table`, with their input
 * as the store built it: what a mocked client's fake would be given, without
 * the SDK's middleware and the mock's stubs, which cost more than the table
 * itself over the simulations' tens of thousands of writes.
 */
function memoryClient(table: ExpressionTable): DynamoDBDocumentClient {
  const send = async (command: unknown) => {
    if (command instanceof UpdateCommand) return table.update(command.input);
    if (command instanceof PutCommand) return table.put(command.input);
    if (command instanceof GetCommand) return table.get(command.input);
    throw new Error(`the table in memory has no ${String(command)}`);
  };
  return { send } as unknown as DynamoDBDocumentClient;
}

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
        tat: NOW_US + INTERVAL_US,
        arr: NOW_US,
        lead: INTERVAL_US,
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
        UpdateExpression: IDLE_UPDATE,
        ConditionExpression: IDLE_CONDITION,
        ExpressionAttributeNames: WITH_LAG,
        ExpressionAttributeValues: IDLE_VALUES,
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    ]);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('adds a joined room in the same write that admits the request', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: {
        tat: NOW_US + INTERVAL_US,
        expiresAt: LIVE_EXP,
        rooms: new Set(['lobby', 'r1']),
      },
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
      UpdateExpression: `${IDLE_UPDATE} ADD #rooms :room`,
      ConditionExpression: `${IDLE_CONDITION} AND ${ROOM_LIMIT_CONDITION}`,
      ExpressionAttributeNames: { ...WITH_LAG, '#rooms': 'rooms' },
      ExpressionAttributeValues: {
        ...IDLE_VALUES,
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
        tat: NOW_US + TOLERANCE_US + 1,
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
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { tat: NOW_US + INTERVAL_US, expiresAt: LIVE_EXP } });

    const outcome = await newStore().admit({ key: KEY, now: NOW, change: { leaveRoom: 'r1' } });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set() } });
    expect(updateInputs()).toHaveLength(1);
    expect(updateInputs()[0]).toMatchObject({
      UpdateExpression: `${IDLE_UPDATE} DELETE #rooms :room`,
      ExpressionAttributeNames: { ...WITH_LAG, '#rooms': 'rooms' },
      ExpressionAttributeValues: { ...IDLE_VALUES, ':room': new Set(['r1']) },
    });
  });

  it('stores a renewed exp in the same write and returns it', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { tat: NOW_US + INTERVAL_US, expiresAt: LIVE_EXP, renewedExp: NOW_SEC + 900 },
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
      UpdateExpression:
        'SET #tat = :next, #arr = :now, #lead = :interval, renewedExp = :renewExp REMOVE #lag',
      ExpressionAttributeNames: WITH_LAG,
      ExpressionAttributeValues: { ...IDLE_VALUES, ':renewExp': NOW_SEC + 900 },
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
      UpdateExpression: `${BUSY_UPDATE} ADD #rooms :room`,
      ConditionExpression: `${BUSY_CONDITION} AND ${ROOM_LIMIT_CONDITION}`,
      ExpressionAttributeNames: { ...LIMITER_NAMES, '#rooms': 'rooms' },
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':interval': INTERVAL_US,
        // 19 intervals of 100 ms: the 20th token of the bucket.
        ':limit': NOW_US + 1_900_000,
        // lead = tat + interval - now, from tat as it was.
        ':leadAfter': INTERVAL_US - NOW_US,
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
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed({ tat: NOW_US + TOLERANCE_US + 1, expiresAt: LIVE_EXP }));

    const outcome = await newStore().admit({
      key: KEY,
      now: NOW,
      change: { joinRoom: 'r1', maxRooms: 3 },
    });

    expect(outcome).toEqual({ kind: 'rate_limited' });
    expect(updateInputs()).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('forgives the stored lag when judging a request that arrived in order', async () => {
    const lag = 700_000;
    const tat = NOW_US + TOLERANCE_US + lag;
    ddb
      .on(UpdateCommand)
      .rejectsOnce(
        conditionFailed({
          tat,
          arr: NOW_US - 50_000,
          lead: tat - NOW_US + 50_000,
          lag,
          expiresAt: LIVE_EXP,
        }),
      )
      .resolvesOnce({ Attributes: { tat: tat + INTERVAL_US, expiresAt: LIVE_EXP } });

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set() } });
    expect(updateInputs()[1]).toEqual({
      TableName: TABLE,
      Key: DB_KEY,
      UpdateExpression: BUSY_UPDATE,
      ConditionExpression: `${BUSY_CONDITION} AND #lag >= :credit`,
      ExpressionAttributeNames: WITH_LAG,
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':interval': INTERVAL_US,
        ':limit': NOW_US + TOLERANCE_US + lag,
        ':leadAfter': INTERVAL_US - NOW_US,
        ':credit': lag,
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('counts a late arrival at the latest one, raising the lag to its lateness', async () => {
    // The bucket as a request that arrived 200 ms later left it, idle before.
    const arr = NOW_US + 200_000;
    ddb
      .on(UpdateCommand)
      .rejectsOnce(
        conditionFailed({ tat: arr + INTERVAL_US, arr, lead: INTERVAL_US, expiresAt: LIVE_EXP }),
      )
      .resolvesOnce({ Attributes: { tat: arr + 2 * INTERVAL_US, expiresAt: LIVE_EXP } });

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'admitted', connection: { rooms: new Set() } });
    // 200 ms late: the lag stored is the lateness against `arr` as the write finds it.
    const credit = 200_000;
    expect(updateInputs()[1]).toEqual({
      TableName: TABLE,
      Key: DB_KEY,
      UpdateExpression: `${LATE_UPDATE}, #lag = #arr - :now`,
      ConditionExpression: RAISING_CONDITION,
      ExpressionAttributeNames: WITH_LAG,
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':interval': INTERVAL_US,
        ':maxLead': TOLERANCE_US + credit,
        ':credit': credit,
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('counts a late arrival that the stored lag covers without raising it', async () => {
    const arr = NOW_US + 50_000;
    const lag = 400_000;
    ddb
      .on(UpdateCommand)
      .rejectsOnce(
        conditionFailed({ tat: arr + 600_000, arr, lead: 600_000, lag, expiresAt: LIVE_EXP }),
      )
      .resolvesOnce({ Attributes: { tat: arr + 700_000, expiresAt: LIVE_EXP } });

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome.kind).toBe('admitted');
    expect(updateInputs()[1]).toMatchObject({
      UpdateExpression: LATE_UPDATE,
      ConditionExpression: LATE_CONDITION,
      ExpressionAttributeNames: WITH_LAG,
      ExpressionAttributeValues: {
        ':now': NOW_US,
        ':nowSec': NOW_SEC,
        ':interval': INTERVAL_US,
        ':latest': NOW_US + lag,
        ':maxLead': TOLERANCE_US + lag,
        ':credit': lag,
      },
    });
  });

  it('refuses a late arrival when the bucket at the latest arrival, lag forgiven, is empty', async () => {
    const arr = NOW_US + 50_000;
    const lag = 400_000;
    const lead = TOLERANCE_US + lag + 1;
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed({ tat: arr + lead, arr, lead, lag, expiresAt: LIVE_EXP }));

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'rate_limited' });
    expect(updateInputs()).toHaveLength(1);
  });

  it('writes a late arrival as late at once when the last write on this instance saw a later one', async () => {
    const arr = NOW_US + 1_000_000;
    ddb.on(UpdateCommand).resolves({
      Attributes: { tat: arr + INTERVAL_US, arr, lead: INTERVAL_US, expiresAt: LIVE_EXP },
    });
    const store = newStore();
    await store.admit({ key: KEY, now: NOW + 1_000 });

    await store.admit({ key: KEY, now: NOW });

    expect(updateInputs().map((input) => input.ConditionExpression)).toEqual([
      IDLE_CONDITION,
      RAISING_CONDITION,
    ]);
    expect(updateInputs()[1]?.ExpressionAttributeValues?.[':credit']).toBe(1_000_000);
  });

  it('gives up as rate-limited after losing sixteen races to concurrent requests', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ tat: NOW_US + 500_000, expiresAt: LIVE_EXP }));

    const outcome = await newStore().admit({ key: KEY, now: NOW });

    expect(outcome).toEqual({ kind: 'rate_limited' });
    expect(updateInputs().map((input) => input.ConditionExpression)).toEqual([
      IDLE_CONDITION,
      ...Array<string>(15).fill(BUSY_CONDITION),
    ]);
  });

  it('requires a renewal of at least the given exp in the condition', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { tat: NOW_US + INTERVAL_US, expiresAt: LIVE_EXP, renewedExp: NOW_SEC + 60 },
    });

    const outcome = await newStore().admit({ key: KEY, now: NOW, renewedExpAtLeast: NOW_SEC });

    expect(outcome).toEqual({
      kind: 'admitted',
      connection: { rooms: new Set(), renewedExp: NOW_SEC + 60 },
    });
    expect(updateInputs()[0]).toMatchObject({
      ConditionExpression: `${IDLE_CONDITION} AND renewedExp >= :minExp`,
      ExpressionAttributeValues: { ...IDLE_VALUES, ':minExp': NOW_SEC },
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

type Kind = AdmitOutcome['kind'];

/** Where the scenarios' writes go. */
interface LimiterTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Bound on a test that writes thousands of requests, or writes to a local engine. */
const SIMULATION_MS = 120_000;
/** How late a request may be written: the function's timeout. */
const MAX_DELAY_MS = 15_000;

/** A deterministic random source (mulberry32), so that a failing order replays. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const indices = (count: number) => Array.from({ length: count }, (_, index) => index);
const reversed = (count: number) => indices(count).reverse();

/** The order of writing when each arrival waits a random delay of up to `maxDelayMs`. */
function delayed(arrivals: readonly number[], maxDelayMs: number, seed: number): number[] {
  const random = seeded(seed);
  return arrivals
    .map((arrival, index) => ({ index, written: arrival + random() * maxDelayMs }))
    .sort((a, b) => a.written - b.written)
    .map(({ index }) => index);
}

/** Arrival times (ms) of `perSecond` requests a second for `seconds`. */
function stream(perSecond: number, seconds: number): number[] {
  return indices(perSecond * seconds).map((k) => NOW + Math.floor((k * 1000) / perSecond));
}

/** 2r at once, then one each interval for `seconds`: all the bucket lets through. */
function edgeOfLimit(rate: number, seconds: number): number[] {
  const interval = 1000 / rate;
  return [
    ...Array<number>(2 * rate).fill(NOW),
    ...indices(rate * seconds).map((k) => NOW + (k + 1) * interval),
  ];
}

/** `count` arrivals spread evenly over `spreadMs`. */
function burst(count: number, spreadMs: number): number[] {
  return indices(count).map((k) => NOW + Math.floor((k * spreadMs) / count));
}

/** Whether each arrival conforms to the bucket on arrival: PROTOCOL.md's rule, as GCRA. */
function bucketOnArrival(arrivals: readonly number[], rate: number): boolean[] {
  const interval = Math.round(1_000_000 / rate);
  const tolerance = interval * (2 * rate - 1);
  let tat = 0;
  const conforms: boolean[] = [];
  for (const index of indices(arrivals.length).sort(
    (a, b) => (arrivals[a] ?? 0) - (arrivals[b] ?? 0),
  )) {
    const t = (arrivals[index] ?? 0) * 1000;
    conforms[index] = tat <= t + tolerance;
    if (conforms[index]) tat = Math.max(tat, t) + interval;
  }
  return conforms;
}

const admitted = (kinds: readonly Kind[]) => kinds.filter((kind) => kind === 'admitted').length;

let connectionCount = 0;

/**
 * Records a fresh connection, then writes its arrivals (ms) in `order`, each
 * through one of `instances` stores drawn at random (each keeps its own hints,
 * as Lambda instances do), `inFlight` at a time; answers each arrival's outcome.
 */
async function replay(
  table: LimiterTable,
  rate: number,
  arrivals: readonly number[],
  order: readonly number[],
  { instances = 4, inFlight = 1, seed = 1 } = {},
): Promise<Kind[]> {
  const stores = indices(instances).map(
    () => new DynamoConnectionStore(table.client, table.tableName, { rateLimitPerSecond: rate }),
  );
  const key = { userId: 'u1', connectionId: `c${++connectionCount}` };
  await stores[0]?.put({ ...key, name: 'Ada', connectedAt: NOW });
  const random = seeded(seed);
  const queue = [...order];
  const kinds: Kind[] = [];
  await Promise.all(
    indices(inFlight).map(async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        const store = stores[Math.floor(random() * instances)] as DynamoConnectionStore;
        kinds[index] = (await store.admit({ key, now: arrivals[index] ?? 0 })).kind;
      }
    }),
  );
  return kinds;
}

/** The limiter's behaviour at each rate, wherever `table()` writes. */
function limiterScenarios(table: () => LimiterTable, rates: readonly number[]): void {
  for (const rate of rates) {
    const interval = 1000 / rate;

    it(`admits exactly 2r at one instant, then one per interval (r = ${rate})`, async () => {
      const arrivals = [
        ...Array<number>(2 * rate + 1).fill(NOW),
        ...(interval > 1 ? [NOW + interval - 1] : []),
        NOW + interval,
        NOW + interval,
      ];

      const kinds = await replay(table(), rate, arrivals, indices(arrivals.length));

      expect(kinds).toEqual([
        ...Array<Kind>(2 * rate).fill('admitted'),
        'rate_limited',
        ...(interval > 1 ? ['rate_limited'] : []),
        'admitted',
        'rate_limited',
      ]);
    });

    it(
      `admits exactly 2r of 3r arriving in one millisecond, whatever the order of writing (r = ${rate})`,
      async () => {
        const arrivals = burst(3 * rate, 0);
        const late = delayed(arrivals, MAX_DELAY_MS, rate);
        for (const [order, options] of [
          [reversed(3 * rate), {}],
          [late, {}],
          [late, { instances: 8, inFlight: 8 }],
        ] as const) {
          expect(admitted(await replay(table(), rate, arrivals, order, options))).toBe(2 * rate);
        }
      },
      SIMULATION_MS,
    );

    it(
      `never refuses arrivals below the limit, written reversed or up to 15 s late, one by one or racing (r = ${rate})`,
      async () => {
        const patterns = [edgeOfLimit(rate, 15), stream(rate - rate / 10, 15)];
        for (const arrivals of patterns) {
          expect(bucketOnArrival(arrivals, rate).every(Boolean)).toBe(true);
          const late = delayed(arrivals, MAX_DELAY_MS, 7);
          for (const [order, options] of [
            [reversed(arrivals.length), {}],
            [late, {}],
            // Queued invocations of eight instances running at once.
            [late, { instances: 8, inFlight: 8 }],
          ] as const) {
            const kinds = await replay(table(), rate, arrivals, order, options);
            expect(kinds.filter((kind) => kind !== 'admitted')).toEqual([]);
          }
        }
      },
      SIMULATION_MS,
    );

    it(
      `refuses a stream at 2r written in order as the bucket on arrival does: all but 2r and r a second (r = ${rate})`,
      async () => {
        const seconds = rate > 100 ? 10 : 30;
        const arrivals = stream(2 * rate, seconds);

        const kinds = await replay(table(), rate, arrivals, indices(arrivals.length));

        const expected = bucketOnArrival(arrivals, rate);
        expect(kinds).toEqual(expected.map((conforms) => (conforms ? 'admitted' : 'rate_limited')));
        // Half the stream but the burst: 47% over 30 s.
        expect(arrivals.length - admitted(kinds)).toBe(rate * seconds - 2 * rate + 1);
      },
      SIMULATION_MS,
    );

    it(
      `admits at most 2r + 2s·r of a burst of 3r spread over s, exactly 2r when s < T/2 (r = ${rate})`,
      async () => {
        const spreadMs = rate > 100 ? 10 : 40;
        const arrivals = burst(3 * rate, spreadMs);
        for (const order of [reversed(arrivals.length), delayed(arrivals, MAX_DELAY_MS, 3)]) {
          const count = admitted(await replay(table(), rate, arrivals, order));
          expect(count).toBeGreaterThanOrEqual(2 * rate);
          expect(count).toBeLessThanOrEqual(2 * rate + Math.floor((2 * spreadMs) / interval));
        }
      },
      SIMULATION_MS,
    );
  }

  it(
    "admits every send of the issue's publisher: 5 a second at r = 1000, written reversed or up to 15 s late",
    async () => {
      const arrivals = stream(5, 15);
      for (const order of [reversed(arrivals.length), delayed(arrivals, MAX_DELAY_MS, 5)]) {
        expect(admitted(await replay(table(), 1000, arrivals, order))).toBe(arrivals.length);
      }
    },
    SIMULATION_MS,
  );

  it('holds the limit across instances that share the table', async () => {
    const arrivals = [...Array<number>(21).fill(NOW), NOW + 100];

    const kinds = await replay(table(), 10, arrivals, indices(22), { instances: 22 });

    expect(kinds.slice(20)).toEqual(['rate_limited', 'admitted']);
  });

  it('admits a burst of exactly twice the rate when the interval is not a whole number of ms', async () => {
    const kinds = await replay(table(), 6, burst(13, 0), indices(13));

    expect(kinds.slice(11)).toEqual(['admitted', 'rate_limited']);
  });

  it('refills the whole burst after two seconds without requests', async () => {
    const arrivals = [...burst(20, 0), ...Array<number>(21).fill(NOW + 2000)];

    const kinds = await replay(table(), 10, arrivals, indices(41));

    expect(admitted(kinds.slice(20))).toBe(20);
    expect(kinds[40]).toBe('rate_limited');
  });

  it('counts requests on a record stored before arr and lead were', async () => {
    const { client, tableName } = table();
    const key = { userId: 'u1', connectionId: `c${++connectionCount}` };
    await client.send(
      new PutCommand({
        TableName: tableName,
        // Ten tokens of twenty taken.
        Item: {
          pk: 'user#u1',
          sk: `conn#${key.connectionId}`,
          ...key,
          expiresAt: LIVE_EXP,
          tat: NOW_US + 1_000_000,
        },
      }),
    );
    const store = new DynamoConnectionStore(client, tableName, { rateLimitPerSecond: 10 });

    const kinds: Kind[] = [];
    for (let i = 0; i < 11; i++) kinds.push((await store.admit({ key, now: NOW })).kind);

    expect(kinds).toEqual([...Array<Kind>(10).fill('admitted'), 'rate_limited']);
  });
}

describe('the rate limit, on a table that evaluates its expressions in memory', () => {
  let memory: ExpressionTable;
  let client: DynamoDBDocumentClient;

  beforeEach(() => {
    memory = new ExpressionTable();
    client = memoryClient(memory);
  });

  limiterScenarios(() => ({ client, tableName: TABLE }), [10, 1000]);

  it('writes once per request in order: the hint sends each after the first to the busy case', async () => {
    const kinds = await replay({ client, tableName: TABLE }, 10, burst(21, 0), indices(21), {
      instances: 1,
    });

    expect(kinds[20]).toBe('rate_limited');
    expect(memory.writes).toBe(21);
  });

  it('writes once per request reversed on one instance: the hint knows the later arrival', async () => {
    const arrivals = stream(9, 2);

    await replay({ client, tableName: TABLE }, 10, arrivals, reversed(18), {
      instances: 1,
    });

    // Each late write raises the lag from what the write before returned.
    expect(memory.writes).toBe(18);
  });

  it(
    'holds a stream at 2r written up to 15 s late to the rate, plus the lag it forgives',
    async () => {
      for (const rate of [10, 1000]) {
        const seconds = 30;
        const arrivals = stream(2 * rate, seconds);

        const kinds = await replay(
          { client, tableName: TABLE },
          rate,
          arrivals,
          delayed(arrivals, MAX_DELAY_MS, 11),
        );

        const onArrival = bucketOnArrival(arrivals, rate).filter(Boolean).length;
        // lag < 15 s, a token each interval of it.
        const forgiven = (rate * MAX_DELAY_MS) / 1000;
        expect(admitted(kinds)).toBeGreaterThan(onArrival);
        expect(admitted(kinds)).toBeLessThanOrEqual(onArrival + forgiven);
      }
    },
    SIMULATION_MS,
  );
});

// The engines side by side, each one's scenarios in turn: their time is mostly
// one write's round trip after another, so two engines take about the time of one.
describeOnEachEngine('connection records', (engine) => {
  const table = useEngineTable(engine);

  describe('the rate limit', () => limiterScenarios(table, [10]));
  describe('a removal guarded against a handshake', () => guardedRemovalScenarios(table));
});

registerSkippedEngineNotice(it, 'the rate limit and removal scenarios');

/**
 * What the prune function's conditional delete keeps and removes, judged by
 * the engine itself: a record connected at NOW, asked about 10 s later.
 */
function guardedRemovalScenarios(
  table: () => { client: DynamoDBDocumentClient; tableName: string },
) {
  const LATER = NOW + 10_000;
  const GRACE_CUTOFF = LATER - 30_000;

  async function connected(requestAt?: number) {
    const { client, tableName } = table();
    const store = new DynamoConnectionStore(client, tableName, { rateLimitPerSecond: 10 });
    const key = { userId: 'u1', connectionId: `guarded${++connectionCount}` };
    await store.put({ ...key, name: 'Ada', connectedAt: NOW });
    if (requestAt !== undefined) {
      expect(
        (await store.admit({ key, now: requestAt, change: { joinRoom: 'lobby', maxRooms: 10 } }))
          .kind,
      ).toBe('admitted');
    }
    return { store, key };
  }

  async function stored(key: { userId: string; connectionId: string }): Promise<boolean> {
    const { client, tableName } = table();
    const found = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: `user#${key.userId}`, sk: `conn#${key.connectionId}` },
        ConsistentRead: true,
      }),
    );
    return found.Item !== undefined;
  }

  it('keeps a young record that has made no request: its $connect may still be running', async () => {
    const { store, key } = await connected();

    await expect(
      store.remove(key, { connectedBefore: GRACE_CUTOFF, openedBefore: LATER }),
    ).resolves.toEqual({ kind: 'recent' });
    expect(await stored(key)).toBe(true);
  });

  it('keeps a young record whose request arrived at or after the time given', async () => {
    const { store, key } = await connected(NOW + 5_000);

    for (const openedBefore of [NOW + 5_000, NOW + 4_999]) {
      await expect(
        store.remove(key, { connectedBefore: GRACE_CUTOFF, openedBefore }),
      ).resolves.toEqual({ kind: 'recent' });
    }
    expect(await stored(key)).toBe(true);
  });

  it('removes a young record whose request arrived before the time given, with its rooms', async () => {
    const { store, key } = await connected(NOW + 5_000);

    await expect(
      store.remove(key, { connectedBefore: GRACE_CUTOFF, openedBefore: NOW + 5_001 }),
    ).resolves.toEqual({ kind: 'removed', rooms: ['lobby'] });
  });

  it('removes a record connected before the cutoff, request or not', async () => {
    const { store, key } = await connected();

    await expect(store.remove(key, { connectedBefore: NOW + 1 })).resolves.toEqual({
      kind: 'removed',
      rooms: [],
    });
  });

  it('reports a record already gone as absent, not recent', async () => {
    const { store, key } = await connected();
    await store.remove(key);

    await expect(
      store.remove(key, { connectedBefore: GRACE_CUTOFF, openedBefore: LATER }),
    ).resolves.toEqual({ kind: 'absent' });
  });
}

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

  it('deletes only a record connected before the cutoff or whose latest request arrived before the given time, when asked', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { ...DB_KEY, expiresAt: LIVE_EXP } });

    await newStore().remove(KEY, { connectedBefore: NOW - 30_000, openedBefore: NOW - 100 });

    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: DB_KEY,
      ConditionExpression: 'attribute_not_exists(pk) OR connectedAt < :cutoff OR arr < :opened',
      // arr is kept in microseconds.
      ExpressionAttributeValues: { ':cutoff': NOW - 30_000, ':opened': NOW_US - 100_000 },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('deletes by age alone when no request time is given (the sweeper)', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { ...DB_KEY, expiresAt: LIVE_EXP } });

    await newStore().remove(KEY, { connectedBefore: NOW - 30_000 });

    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk) OR connectedAt < :cutoff',
      ExpressionAttributeValues: { ':cutoff': NOW - 30_000 },
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
