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
  RemovalGuard,
} from '../domain/ports.js';
import { setBounded } from '../shared/bounded-map.js';
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
  /** The latest arrival admitted, microseconds since the epoch. */
  readonly arr?: number;
  /** `tat - arr`, so that a condition can compare the two plus a constant. */
  readonly lead?: number;
  /** Lateness forgiven since the bucket was last idle, microseconds; absent for none. */
  readonly lag?: number;
  readonly rooms?: ReadonlySet<string>;
  readonly renewedExp?: number;
}

/** The rate limiter's attributes of a record, as last seen. */
interface Bucket {
  readonly tat?: number;
  readonly arr?: number;
  readonly lag?: number;
}

/**
 * The case a write assumes in its condition: a request that arrived no earlier
 * than `arr` finds the bucket idle or busy; a late one arrived before `arr`.
 * `credit` is the lateness forgiven (µs): the stored `lag`, or for a late
 * request beyond it, its own lateness, which the write that `raises` stores.
 */
type Variant =
  | { readonly kind: 'idle' }
  | { readonly kind: 'busy'; readonly credit: number }
  | { readonly kind: 'late'; readonly credit: number; readonly raises: boolean };

/**
 * Attempts per admission. A write fails its condition only when the record is
 * not as last seen: a miss of the hint, or a race lost to another write on this
 * connection. Only requests the rule admits on a fresh look retry, so refusals
 * cost no more writes; queued invocations running at once race often (eight
 * instances writing 15 s of arrivals in a second lose up to nine in a row).
 */
const MAX_ATTEMPTS = 16;
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
 * The limit is a token bucket of rate r holding 2r, counted on arrival
 * (PROTOCOL.md section 6), kept as GCRA with interval T = 1/r and tolerance
 * τ = (2r - 1)T: a request arriving at t conforms when `tat <= t + τ` and then
 * sets `tat = max(tat, t) + T`. Arrival is API Gateway's `requestTimeEpoch`, in
 * whole microseconds here: with a fractional interval (1000/6 ms), repeated
 * additions would drift past the tolerance and cut the burst one short. The
 * state lives in the record and one conditional UpdateItem judges a request,
 * so the limit holds across concurrent instances. Conditions compare but do not
 * compute (no `max`), so each write assumes one case (see {@link Variant}); a
 * per-instance hint picks the likely one, and a miss is judged from the old item
 * the failed write returns, costing one more write.
 *
 * Concurrent instances write arrivals out of order, by seconds when invocations
 * queue (up to the function's 15 s timeout). `arr` is the latest arrival
 * admitted: a request arriving no earlier is plain GCRA at t and sets `arr = t`;
 * a late one (t < arr) is counted at `arr`, where `tat > arr`, so it adds T.
 * Counting it at `arr` takes the refill between t and `arr` from the bucket, and
 * late requests pile up there: 21 requests 110 ms apart at r = 10, written after
 * the 22nd that followed them, would see their 20th and 21st refused at a rate
 * below r. So every check also forgives `lag`, the greatest lateness `arr - t`
 * admitted since the bucket was last idle (idle resets it to 0):
 *
 *   in order (t >= arr):  tat <= t + τ + lag
 *   late (t < arr):       tat <= arr + τ + max(lag, arr - t)
 *
 * This never refuses a connection whose arrivals fit the bucket, however late
 * and in whatever order its requests are written. Since the last reset, GCRA's
 * `tat` is e + kT, where e is the time some admitted request was counted at (t
 * in order, `arr` late) and k counts it and those admitted after it. Those k
 * arrived no earlier than e - lag (an in-order one at or after e; a late one at
 * most `lag` before an `arr` >= e) and no later than e', the time the current
 * request is counted at (lag here includes its own lateness). With it, k + 1
 * arrivals in a span of at most e' - e + lag, of which a fitting connection
 * sends at most 2r + (e' - e + lag)/T; so `tat <= e' + τ + lag`, the check.
 * Such a request is refused only when its write loses {@link MAX_ATTEMPTS}
 * races in a row to writes of the same connection that change the case it
 * assumed.
 *
 * In order, lag stays 0 and the rule is GCRA on arrivals: exactly 2r from idle
 * (arrivals in one millisecond are in order), then r a second. Reordered, the
 * forgiveness admits up to lag·r more than the bucket on arrivals until the
 * bucket is next idle (lag < 15 s): a burst from idle whose arrivals span s gets
 * at most 2r + 2s·r, exactly 2r for s < T/2.
 */
export class DynamoConnectionStore implements ConnectionStore {
  private readonly intervalUs: number;
  private readonly toleranceUs: number;
  private readonly hints = new Map<string, Bucket>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoConnectionStoreOptions,
  ) {
    this.intervalUs = Math.round(1_000_000 / options.rateLimitPerSecond);
    this.toleranceUs = this.intervalUs * (2 * options.rateLimitPerSecond - 1);
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
    const nowUs = request.now * 1000;
    let variant = plan(this.hints.get(request.key.connectionId) ?? {}, nowUs);
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
    // Lost every race to concurrent writes on this connection.
    return { kind: 'rate_limited' };
  }

  async remove(key: ConnectionKey, guard: RemovalGuard = {}): Promise<Removal> {
    this.hints.delete(key.connectionId);
    const condition = removalCondition(guard);
    try {
      const result = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: userPk(key.userId), sk: connectionSk(key.connectionId) },
          ...condition,
          ReturnValues: 'ALL_OLD',
        }),
      );
      const item = result.Attributes as ConnectionItem | undefined;
      return item === undefined
        ? { kind: 'absent' }
        : { kind: 'removed', rooms: [...(item.rooms ?? [])] };
    } catch (error) {
      if (condition !== undefined && isConditionFailure(error)) return { kind: 'recent' };
      throw error;
    }
  }

  private async tryAdmit(
    request: AdmitRequest,
    variant: Variant,
  ): Promise<{ state: ConnectionState } | { current: ConnectionItem | undefined }> {
    const names: Record<string, string> = { '#tat': 'tat', '#arr': 'arr', '#lead': 'lead' };
    const nowUs = request.now * 1000;
    const values: Record<string, unknown> = {
      ':now': nowUs,
      ':nowSec': epochSeconds(request.now),
      ':interval': this.intervalUs,
    };
    const conditions = ['attribute_exists(pk)', 'expiresAt > :nowSec'];
    const sets: string[] = [];
    const others: string[] = [];
    const inOrder = '(attribute_not_exists(#arr) OR #arr <= :now)';
    switch (variant.kind) {
      case 'idle':
        conditions.push(inOrder, '(attribute_not_exists(#tat) OR #tat <= :now)');
        sets.push('#tat = :next', '#arr = :now', '#lead = :interval');
        others.push('REMOVE #lag');
        names['#lag'] = 'lag';
        values[':next'] = nowUs + this.intervalUs;
        break;
      case 'busy':
        conditions.push(inOrder, '#tat > :now', '#tat <= :limit');
        // Every action reads the attributes as they were before the update.
        sets.push('#tat = #tat + :interval', '#arr = :now', '#lead = #tat + :leadAfter');
        values[':limit'] = nowUs + this.toleranceUs + variant.credit;
        values[':leadAfter'] = this.intervalUs - nowUs;
        if (variant.credit > 0) {
          conditions.push('#lag >= :credit');
          names['#lag'] = 'lag';
          values[':credit'] = variant.credit;
        }
        break;
      case 'late':
        // `#lead <= :maxLead` is `tat <= arr + τ + credit`.
        conditions.push('#arr > :now');
        if (variant.raises) {
          // The lag becomes the lateness against `arr` as the write finds it, which
          // later arrivals admitted meanwhile only make longer than `credit`.
          conditions.push('#lead <= :maxLead', '(attribute_not_exists(#lag) OR #lag <= :credit)');
          sets.push('#tat = #tat + :interval', '#lead = #lead + :interval', '#lag = #arr - :now');
        } else {
          conditions.push('#arr <= :latest', '#lead <= :maxLead', '#lag >= :credit');
          sets.push('#tat = #tat + :interval', '#lead = #lead + :interval');
          values[':latest'] = nowUs + variant.credit;
        }
        names['#lag'] = 'lag';
        values[':maxLead'] = this.toleranceUs + variant.credit;
        values[':credit'] = variant.credit;
        break;
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
      if (item !== undefined) this.remember(request.key.connectionId, item);
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
    const nowUs = request.now * 1000;
    this.remember(request.key.connectionId, item);
    const variant = plan(item, nowUs);
    if (!this.conforms(item, nowUs, variant)) return { kind: 'rate_limited' };
    const change = request.change;
    if (
      change !== undefined &&
      'joinRoom' in change &&
      !item.rooms?.has(change.joinRoom) &&
      (item.rooms?.size ?? 0) >= change.maxRooms
    ) {
      return { kind: 'room_limit' };
    }
    return { kind: 'retry', variant };
  }

  /** Whether the rule admits a request arriving at `nowUs`, as `variant` would count it. */
  private conforms(bucket: Bucket, nowUs: number, variant: Variant): boolean {
    const tat = bucket.tat ?? 0;
    switch (variant.kind) {
      case 'idle':
        return true;
      case 'busy':
        return tat <= nowUs + this.toleranceUs + variant.credit;
      case 'late':
        return tat <= (bucket.arr ?? 0) + this.toleranceUs + variant.credit;
    }
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

  private remember(connectionId: string, item: ConnectionItem): void {
    if (item.tat === undefined) return;
    setBounded(
      this.hints,
      connectionId,
      { tat: item.tat, arr: item.arr, lag: item.lag },
      HINT_CAPACITY,
    );
  }
}

/**
 * The case a request arriving at `nowUs` falls in, given the bucket: in order or
 * late, and for a late one whether `lag` already covers its lateness or must rise.
 */
function plan(bucket: Bucket, nowUs: number): Variant {
  const lag = bucket.lag ?? 0;
  if (bucket.arr === undefined || nowUs >= bucket.arr) {
    return bucket.tat !== undefined && bucket.tat > nowUs
      ? { kind: 'busy', credit: lag }
      : { kind: 'idle' };
  }
  const lateness = bucket.arr - nowUs;
  return lateness <= lag
    ? { kind: 'late', credit: lag, raises: false }
    : { kind: 'late', credit: lateness, raises: true };
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

/**
 * The delete's condition for a guarded removal: an absent record (nothing to
 * keep), one connected before the cutoff, or one whose latest admitted
 * request (`arr`, µs) arrived before `openedBefore`.
 */
function removalCondition(
  guard: RemovalGuard,
): { ConditionExpression: string; ExpressionAttributeValues: Record<string, number> } | undefined {
  const clauses = ['attribute_not_exists(pk)'];
  const values: Record<string, number> = {};
  if (guard.connectedBefore !== undefined) {
    clauses.push('connectedAt < :cutoff');
    values[':cutoff'] = guard.connectedBefore;
  }
  if (guard.openedBefore !== undefined) {
    clauses.push('arr < :opened');
    values[':opened'] = guard.openedBefore * 1000;
  }
  if (clauses.length === 1) return undefined;
  return { ConditionExpression: clauses.join(' OR '), ExpressionAttributeValues: values };
}
