import { TokenRejectedError } from '../../lambdas/auth/token-verifier.js';
import type { Caller } from '../../lambdas/domain/caller.js';
import type {
  AdmitOutcome,
  AdmitRequest,
  ConnectionKey,
  ConnectionStore,
  Delivery,
  GoneConnection,
  HandOverWindow,
  Member,
  MessageStore,
  NewConnection,
  Notifier,
  OpenConnection,
  PruneQueue,
  Removal,
  RemovalGuard,
  RoomStore,
  Services,
  TokenVerifier,
  VerifiedToken,
} from '../../lambdas/domain/ports.js';
import type { MembershipChange } from '../../lambdas/domain/presence.js';
import { announcePresence } from '../../lambdas/domain/presence-announcer.js';
import { pruneGone } from '../../lambdas/domain/pruning.js';
import { DEFAULT_LIMITS, type Limits } from '../../lambdas/shared/config.js';
import type { MessageFrame, ServerFrame, User } from '../../protocol/messages.js';

interface ConnectionRecord extends NewConnection {
  rooms: Set<string>;
  renewedExp?: number;
  /** The latest admitted request's arrival (ms), as the rate limiter's `arr` is in the table. */
  arrivedAt?: number;
}

/** In-memory connections; `throttled` connections are refused as rate limited. */
export class FakeConnections implements ConnectionStore {
  readonly records = new Map<string, ConnectionRecord>();
  readonly throttled = new Set<string>();
  /** Connections whose removal fails as DynamoDB would once its retries are spent. */
  readonly failingRemoval = new Set<string>();
  admissions = 0;
  /** Sweep shards: a record's shard is the sum of its id's char codes modulo this. */
  readonly sweepShards = 2;
  /** Records per sweep page. */
  sweepPageSize = 2;

  async put(connection: NewConnection): Promise<void> {
    this.records.set(connection.connectionId, { ...connection, rooms: new Set() });
  }

  async forgetRoom(key: ConnectionKey, room: string): Promise<void> {
    this.records.get(key.connectionId)?.rooms.delete(room);
  }

  async *sweepPages(shard: number, connectedBefore: number): AsyncIterable<OpenConnection[]> {
    const inShard = [...this.records.values()].filter(
      (record) =>
        [...record.connectionId].reduce((sum, char) => sum + char.charCodeAt(0), 0) %
          this.sweepShards ===
          shard && record.connectedAt < connectedBefore,
    );
    for (let start = 0; start < inShard.length; start += this.sweepPageSize) {
      yield inShard
        .slice(start, start + this.sweepPageSize)
        .map(({ userId, connectionId, name }) => ({ userId, connectionId, name }));
    }
  }

  async listByUser(userId: string): Promise<OpenConnection[]> {
    return [...this.records.values()]
      .filter((record) => record.userId === userId)
      .map(({ userId: id, connectionId, name }) => ({ userId: id, connectionId, name }));
  }

  async admit(request: AdmitRequest): Promise<AdmitOutcome> {
    const record = this.records.get(request.key.connectionId);
    if (record === undefined) return { kind: 'gone' };
    if (
      request.renewedExpAtLeast !== undefined &&
      !((record.renewedExp ?? 0) >= request.renewedExpAtLeast)
    ) {
      return { kind: 'token_expired' };
    }
    if (this.throttled.has(record.connectionId)) return { kind: 'rate_limited' };
    const change = request.change;
    if (
      change &&
      'joinRoom' in change &&
      !record.rooms.has(change.joinRoom) &&
      record.rooms.size >= change.maxRooms
    ) {
      return { kind: 'room_limit' };
    }
    this.admissions++;
    record.arrivedAt = Math.max(record.arrivedAt ?? request.now, request.now);
    if (change && 'joinRoom' in change) record.rooms.add(change.joinRoom);
    if (change && 'leaveRoom' in change) record.rooms.delete(change.leaveRoom);
    if (change && 'renewExp' in change) record.renewedExp = change.renewExp;
    return {
      kind: 'admitted',
      connection: {
        rooms: new Set(record.rooms),
        ...(record.renewedExp === undefined ? {} : { renewedExp: record.renewedExp }),
      },
    };
  }

  async remove(key: ConnectionKey, guard: RemovalGuard = {}): Promise<Removal> {
    if (this.failingRemoval.has(key.connectionId)) throw new Error('remove failed after retries');
    const record = this.records.get(key.connectionId);
    if (record === undefined) return { kind: 'absent' };
    const guarded = guard.connectedBefore !== undefined || guard.openedBefore !== undefined;
    const old = guard.connectedBefore !== undefined && record.connectedAt < guard.connectedBefore;
    const openedBefore =
      guard.openedBefore !== undefined &&
      record.arrivedAt !== undefined &&
      record.arrivedAt < guard.openedBefore;
    if (guarded && !old && !openedBefore) return { kind: 'recent' };
    this.records.delete(key.connectionId);
    return { kind: 'removed', rooms: [...record.rooms] };
  }
}

/**
 * In-memory rooms and history; `pageSize` splits member listings into pages.
 * `changes` records arrivals and departures as the table's stream shows them.
 */
export class FakeRooms implements RoomStore, MessageStore {
  readonly members = new Map<string, Map<string, { name: string; conns: Set<string> }>>();
  readonly changes: MembershipChange[] = [];
  private position = 0;
  readonly seqs = new Map<string, number>();
  readonly stored: Array<{ message: MessageFrame; expiresAt: number }> = [];
  pageSize = 1000;
  /** Operations that fail as DynamoDB would once its retries are spent: 'addConnection', 'snapshot', 'claimGone'. */
  readonly failing = new Set<string>();
  /** Rooms whose members cannot be read (the Query fails after its retries). */
  readonly unreadable = new Set<string>();

  async addConnection(room: string, user: User, connectionId: string) {
    const users = this.members.get(room) ?? new Map();
    this.members.set(room, users);
    const entry = users.get(user.userId) ?? { name: user.name, conns: new Set<string>() };
    const firstOfUser = entry.conns.size === 0;
    const alreadyIn = entry.conns.has(connectionId);
    if (this.failing.has('addConnection')) throw new Error('addConnection failed after retries');
    entry.conns.add(connectionId);
    entry.name = user.name;
    users.set(user.userId, entry);
    if (firstOfUser) this.changed(room, { userId: user.userId, name: user.name }, true);
    return { alreadyIn };
  }

  /** The table's claim items, as every instance shares them: `<room>\n<window start>` → ids. */
  readonly goneClaims = new Map<string, Set<string>>();

  async claimGone(room: string, connectionIds: readonly string[], window: HandOverWindow) {
    if (this.failing.has('claimGone')) throw new Error('claimGone failed after retries');
    const key = `${room}\n${window.startMs}`;
    const claimed = this.goneClaims.get(key) ?? new Set<string>();
    this.goneClaims.set(key, claimed);
    const mine = connectionIds.filter((id) => !claimed.has(id));
    for (const id of mine) claimed.add(id);
    return mine;
  }

  async removeConnection(room: string, userId: string, connectionId: string) {
    const entry = this.members.get(room)?.get(userId);
    if (entry === undefined || !entry.conns.has(connectionId)) return;
    entry.conns.delete(connectionId);
    if (entry.conns.size === 0) this.changed(room, { userId, name: entry.name }, false);
  }

  private changed(room: string, user: User, present: boolean): void {
    this.position++;
    this.changes.push({ room, user, present, position: String(this.position).padStart(8, '0') });
  }

  async *memberPages(room: string): AsyncIterable<readonly Member[]> {
    if (this.unreadable.has(room)) throw new Error('Query failed after retries');
    const all = this.list(room);
    for (let i = 0; i < all.length; i += this.pageSize) yield all.slice(i, i + this.pageSize);
  }

  async snapshot(room: string) {
    if (this.failing.has('snapshot')) throw new Error('snapshot failed after retries');
    return { members: this.list(room), seq: this.seqs.get(room) ?? 0 };
  }

  async nextSeq(room: string): Promise<number> {
    const seq = (this.seqs.get(room) ?? 0) + 1;
    this.seqs.set(room, seq);
    return seq;
  }

  async put(message: MessageFrame, expiresAt: number): Promise<void> {
    this.stored.push({ message, expiresAt });
  }

  async after(room: string, after: number, limit: number) {
    const matching = this.stored
      .map((entry) => entry.message)
      .filter((message) => message.room === room && message.seq > after)
      .sort((a, b) => a.seq - b.seq);
    return { messages: matching.slice(0, limit), hasMore: matching.length > limit };
  }

  private list(room: string): Member[] {
    return [...(this.members.get(room) ?? new Map()).entries()]
      .filter(([, entry]) => entry.conns.size > 0)
      .map(([userId, entry]) => ({ userId, name: entry.name, connectionIds: [...entry.conns] }));
  }
}

/** Records every post; `gone` connections answer gone, `failing` ones throw. */
export class FakeNotifier implements Notifier {
  readonly posts: Array<{ connectionId: string; frame: ServerFrame }> = [];
  readonly gone = new Set<string>();
  readonly failing = new Set<string>();

  async post(connectionId: string, payload: string): Promise<Delivery> {
    if (this.failing.has(connectionId)) throw new Error('post failed after retries');
    if (this.gone.has(connectionId)) return 'gone';
    this.posts.push({ connectionId, frame: JSON.parse(payload) as ServerFrame });
    return 'delivered';
  }

  /** Connections asked about with `probe`, in order. */
  readonly probes: string[] = [];

  async probe(connectionId: string): Promise<'live' | 'gone'> {
    this.probes.push(connectionId);
    if (this.failing.has(connectionId)) throw new Error('probe failed after retries');
    return this.gone.has(connectionId) ? 'gone' : 'live';
  }

  /** Frames delivered to one connection. */
  to(connectionId: string): ServerFrame[] {
    return this.posts.filter((post) => post.connectionId === connectionId).map((p) => p.frame);
  }
}

/** Records the gone connections handed over; `failing` makes every hand-over reject. */
export class FakePruneQueue implements PruneQueue {
  readonly queued: GoneConnection[] = [];
  failing = false;

  async enqueue(gone: readonly GoneConnection[]): Promise<void> {
    if (this.failing) throw new Error('Lambda refused the invocation');
    this.queued.push(...gone);
  }
}

/** Accepts `valid:<sub>:<exp>`; `broken` fails as an outage would; anything else is refused. */
export class FakeVerifier implements TokenVerifier {
  async verify(token: string): Promise<VerifiedToken> {
    const [kind, sub, exp] = token.split(':');
    if (kind === 'broken') throw new Error('JWKS unreachable');
    if (kind !== 'valid' || !sub || !exp)
      throw new TokenRejectedError('token_invalid', 'invalid token');
    return { sub, name: sub, rooms: null, exp: Number(exp) };
  }
}

/** The current fake time, ms; tests move it. */
export const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

/** A fake world: services over in-memory stores and a settable clock. */
export function fakeServices(limits: Partial<Limits> = {}) {
  const connections = new FakeConnections();
  const rooms = new FakeRooms();
  const notifier = new FakeNotifier();
  const pruneQueue = new FakePruneQueue();
  const clock = { now: NOW };
  const services: Services = {
    connections,
    rooms,
    messages: rooms,
    notifier,
    pruneQueue,
    limits: { ...DEFAULT_LIMITS, ...limits },
    clock: () => clock.now,
  };
  const world = {
    /** Replaceable, e.g. to add workers; `settle` uses whatever is here. */
    services,
    connections,
    rooms,
    notifier,
    pruneQueue,
    clock,
    /**
     * Runs the asynchronous work as AWS would, until none is left: the
     * `prune` function over what was handed over, the `presence` function
     * over the membership changes (one batch per round).
     */
    async settle(): Promise<void> {
      for (let round = 0; round < 100; round++) {
        if (pruneQueue.queued.length === 0 && rooms.changes.length === 0) return;
        const gone = pruneQueue.queued.splice(0);
        if (gone.length > 0) await pruneGone(world.services, gone);
        const changes = rooms.changes.splice(0);
        if (changes.length > 0) await announcePresence(world.services, changes);
      }
      throw new Error('the asynchronous work did not settle in 100 rounds');
    },
  };
  return world;
}

/** A caller whose token expires an hour after NOW unless told otherwise. */
export function callerOf(
  userId: string,
  connectionId: string,
  options: { rooms?: string[] | null; exp?: number; name?: string } = {},
): Caller {
  return {
    connectionId,
    identity: {
      userId,
      name: options.name ?? userId,
      rooms: options.rooms === undefined ? null : options.rooms,
      exp: options.exp ?? Math.floor(NOW / 1000) + 3600,
    },
  };
}

/** Records the caller's connection as `$connect` would. */
export async function connect(world: ReturnType<typeof fakeServices>, caller: Caller) {
  await world.connections.put({
    userId: caller.identity.userId,
    connectionId: caller.connectionId,
    name: caller.identity.name,
    connectedAt: world.clock.now,
  });
  return caller;
}
