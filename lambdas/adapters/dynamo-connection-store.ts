import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  AdmitOutcome,
  AdmitRequest,
  ConnectionKey,
  ConnectionState,
  ConnectionStore,
  NewConnection,
  OpenConnection,
  Removal,
} from '../domain/ports.js';
import { isConditionFailure } from './dynamo-errors.js';
import {
  CONNECTION_SK_PREFIX,
  CONNECTION_TTL_S,
  connectionSk,
  epochSeconds,
  isLive,
  SWEEP_INDEX,
  SWEEP_SHARDS,
  sweepShardKey,
  sweepShardOf,
  userPk,
} from './table-keys.js';

/** A connection record as stored. */
interface ConnectionItem {
  readonly connectionId: string;
  readonly userId: string;
  readonly name: string;
  readonly expiresAt: number;
  /** GCRA theoretical arrival time, microseconds since the epoch. */
  readonly tat?: number;
  readonly rooms?: ReadonlySet<string>;
  readonly renewedExp?: number;
}

type Variant = 'idle' | 'busy';

/** Attempts per admission: a lost race with a concurrent request costs one more write. */
const MAX_ATTEMPTS = 3;
/** Connections per sweep page. */
const SWEEP_PAGE_SIZE = 500;
/** Bound on the per-instance hint cache. */
const HINT_CAPACITY = 10_000;

export interface DynamoConnectionStoreOptions {
  readonly rateLimitPerSecond: number;
}

/**
 * Connection records in the single table, with a per-connection rate limit.
 *
 * The limit is a token bucket holding twice the rate (PROTOCOL.md section 6),
 * kept as GCRA: one number, the theoretical arrival time `tat`. A request is
 * allowed when `tat <= now + tolerance`; it then sets `tat = max(tat, now) + interval`.
 * DynamoDB expressions have no `max`, so each write assumes one branch in its
 * condition (idle: `tat <= now`; busy: `now < tat <= now + tolerance`). A
 * per-instance hint picks the likely branch; a miss costs one more write. The
 * state lives in the table, so the limit holds across concurrent Lambda instances.
 * Times are whole microseconds: with a fractional interval (1000/6 ms), repeated
 * additions would drift past the tolerance and cut the burst one short.
 *
 * Requests are counted at their arrival, but concurrent Lambda instances may
 * write them in another order: a burst's later arrival written first would
 * refuse an earlier one written second, cutting the burst one short. A slack
 * of a tenth of an interval (at most 10 ms) on the busy branch absorbs that
 * reordering; being under one interval, it never admits one request more.
 */
export class DynamoConnectionStore implements ConnectionStore {
  private readonly intervalUs: number;
  private readonly toleranceUs: number;
  private readonly hints = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoConnectionStoreOptions,
  ) {
    this.intervalUs = Math.round(1_000_000 / options.rateLimitPerSecond);
    const reorderSlackUs = Math.min(Math.round(this.intervalUs / 10), 10_000);
    this.toleranceUs = this.intervalUs * (2 * options.rateLimitPerSecond - 1) + reorderSlackUs;
  }

  async put(connection: NewConnection): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: userPk(connection.userId),
          sk: connectionSk(connection.connectionId),
          connectionId: connection.connectionId,
          userId: connection.userId,
          name: connection.name,
          connectedAt: connection.connectedAt,
          expiresAt: epochSeconds(connection.connectedAt) + CONNECTION_TTL_S,
          sweepShard: sweepShardKey(sweepShardOf(connection.connectionId)),
        },
      }),
    );
  }

  async listByUser(userId: string): Promise<OpenConnection[]> {
    const now = Date.now();
    const found: OpenConnection[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': userPk(userId), ':prefix': CONNECTION_SK_PREFIX },
          ProjectionExpression: 'connectionId, userId, #name, expiresAt',
          ExpressionAttributeNames: { '#name': 'name' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as ConnectionItem[]) {
        if (isLive(item, now)) {
          found.push({ userId: item.userId, connectionId: item.connectionId, name: item.name });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  async forgetRoom(key: ConnectionKey, room: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userPk(key.userId), sk: connectionSk(key.connectionId) },
          UpdateExpression: 'DELETE #rooms :room',
          // Without it, DELETE on a missing record would create an empty one.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#rooms': 'rooms' },
          ExpressionAttributeValues: { ':room': new Set([room]) },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  readonly sweepShards = SWEEP_SHARDS;

  async *sweepPages(shard: number, connectedBefore: number): AsyncIterable<OpenConnection[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: SWEEP_INDEX,
          KeyConditionExpression: 'sweepShard = :shard AND connectedAt < :before',
          ExpressionAttributeValues: { ':shard': sweepShardKey(shard), ':before': connectedBefore },
          // Pages the sweeper can check in a few seconds, so it stops in time at its deadline.
          Limit: SWEEP_PAGE_SIZE,
          ExclusiveStartKey: startKey,
        }),
      );
      yield ((page.Items ?? []) as ConnectionItem[]).map((item) => ({
        userId: item.userId,
        connectionId: item.connectionId,
        name: item.name,
      }));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async admit(request: AdmitRequest): Promise<AdmitOutcome> {
    const { connectionId } = request.key;
    const hint = this.hints.get(connectionId);
    let variant: Variant = hint !== undefined && hint > request.now * 1000 ? 'busy' : 'idle';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const result = await this.tryAdmit(request, variant);
      if ('state' in result) {
        return { kind: 'admitted', connection: result.state };
      }
      const item = result.current ?? (await this.read(request.key));
      const verdict = this.judge(item, request);
      if (verdict.kind !== 'retry') return verdict;
      variant = verdict.variant;
    }
    // Lost every race to concurrent requests on this connection: it is sending too fast.
    return { kind: 'rate_limited' };
  }

  async remove(key: ConnectionKey, options: { connectedBefore?: number } = {}): Promise<Removal> {
    this.hints.delete(key.connectionId);
    const guarded = options.connectedBefore !== undefined;
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: userPk(key.userId), sk: connectionSk(key.connectionId) },
          ...(guarded
            ? {
                // A `tat` means a request was admitted: the connection had opened.
                ConditionExpression:
                  'attribute_not_exists(pk) OR attribute_exists(tat) OR connectedAt < :cutoff',
                ExpressionAttributeValues: { ':cutoff': options.connectedBefore },
              }
            : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      const item = result.Attributes as ConnectionItem | undefined;
      return item === undefined
        ? { kind: 'absent' }
        : { kind: 'removed', rooms: [...(item.rooms ?? [])] };
    } catch (error) {
      if (guarded && isConditionFailure(error)) return { kind: 'recent' };
      throw error;
    }
  }

  private async tryAdmit(
    request: AdmitRequest,
    variant: Variant,
  ): Promise<{ state: ConnectionState } | { current: ConnectionItem | undefined }> {
    const names: Record<string, string> = { '#tat': 'tat' };
    const nowUs = request.now * 1000;
    const values: Record<string, unknown> = { ':now': nowUs, ':nowSec': epochSeconds(request.now) };
    const conditions = ['attribute_exists(pk)', 'expiresAt > :nowSec'];
    const sets: string[] = [];
    const others: string[] = [];
    if (variant === 'idle') {
      conditions.push('(attribute_not_exists(#tat) OR #tat <= :now)');
      sets.push('#tat = :next');
      values[':next'] = nowUs + this.intervalUs;
    } else {
      conditions.push('#tat > :now AND #tat <= :limit');
      sets.push('#tat = #tat + :interval');
      values[':limit'] = nowUs + this.toleranceUs;
      values[':interval'] = this.intervalUs;
    }
    if (request.renewedExpAtLeast !== undefined) {
      conditions.push('renewedExp >= :minExp');
      values[':minExp'] = request.renewedExpAtLeast;
    }
    const change = request.change;
    if (change && 'joinRoom' in change) {
      others.push('ADD #rooms :room');
      names['#rooms'] = 'rooms';
      values[':room'] = new Set([change.joinRoom]);
      // Joining again a room already joined succeeds at the limit too.
      conditions.push(
        '(attribute_not_exists(#rooms) OR size(#rooms) < :maxRooms OR contains(#rooms, :roomName))',
      );
      values[':maxRooms'] = change.maxRooms;
      values[':roomName'] = change.joinRoom;
    } else if (change && 'leaveRoom' in change) {
      others.push('DELETE #rooms :room');
      names['#rooms'] = 'rooms';
      values[':room'] = new Set([change.leaveRoom]);
    } else if (change && 'renewExp' in change) {
      sets.push('renewedExp = :renewExp');
      values[':renewExp'] = change.renewExp;
    }
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userPk(request.key.userId), sk: connectionSk(request.key.connectionId) },
          UpdateExpression: [`SET ${sets.join(', ')}`, ...others].join(' '),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const item = result.Attributes as ConnectionItem | undefined;
      this.remember(request.key.connectionId, item?.tat);
      return { state: stateOf(item) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { current: itemOfFailure(error) };
    }
  }

  /** Why a conditional admission failed, from the record as it stands. */
  private judge(
    item: ConnectionItem | undefined,
    request: AdmitRequest,
  ): AdmitOutcome | { kind: 'retry'; variant: Variant } {
    if (item === undefined || !isLive(item, request.now)) return { kind: 'gone' };
    if (
      request.renewedExpAtLeast !== undefined &&
      !((item.renewedExp ?? 0) >= request.renewedExpAtLeast)
    ) {
      return { kind: 'token_expired' };
    }
    const tat = item.tat ?? 0;
    const nowUs = request.now * 1000;
    this.remember(request.key.connectionId, tat);
    if (tat > nowUs + this.toleranceUs) return { kind: 'rate_limited' };
    const change = request.change;
    if (
      change !== undefined &&
      'joinRoom' in change &&
      !item.rooms?.has(change.joinRoom) &&
      (item.rooms?.size ?? 0) >= change.maxRooms
    ) {
      return { kind: 'room_limit' };
    }
    return { kind: 'retry', variant: tat <= nowUs ? 'idle' : 'busy' };
  }

  /** A consistent read, for engines that do not return the item on a failed condition. */
  private async read(key: ConnectionKey): Promise<ConnectionItem | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userPk(key.userId), sk: connectionSk(key.connectionId) },
        ConsistentRead: true,
      }),
    );
    return result.Item as ConnectionItem | undefined;
  }

  private remember(connectionId: string, tat: number | undefined): void {
    if (tat === undefined) return;
    if (this.hints.size >= HINT_CAPACITY && !this.hints.has(connectionId)) {
      const oldest = this.hints.keys().next();
      if (!oldest.done) this.hints.delete(oldest.value);
    }
    this.hints.set(connectionId, tat);
  }
}

function stateOf(item: ConnectionItem | undefined): ConnectionState {
  return {
    rooms: new Set(item?.rooms ?? []),
    ...(item?.renewedExp === undefined ? {} : { renewedExp: item.renewedExp }),
  };
}

/**
 * The document client does not unmarshall the item returned with a failed
 * condition, so it arrives as raw attribute values (or not at all).
 */
function itemOfFailure(error: unknown): ConnectionItem | undefined {
  const raw = (error as { Item?: Record<string, unknown> }).Item;
  if (raw === undefined || Object.keys(raw).length === 0) return undefined;
  const isRaw = Object.values(raw).every(
    (value) => typeof value === 'object' && value !== null && !(value instanceof Set),
  );
  // biome-ignore lint/suspicious/noExplicitAny: raw attribute values are untyped here.
  return (isRaw ? unmarshall(raw as any) : raw) as unknown as ConnectionItem;
}
