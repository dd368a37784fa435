import type { ErrorCode, MessageFrame, User } from '../../protocol/messages.js';
import type { Limits } from '../shared/config.js';
import type { METRIC } from '../shared/metric-names.js';
import type { Identity } from './identity.js';

/** Addresses one connection: its user is part of the key, so lookups need no index. */
export interface ConnectionKey {
  readonly userId: string;
  readonly connectionId: string;
}

/** What `$connect` records. */
export interface NewConnection extends ConnectionKey {
  readonly name: string;
  /** Milliseconds since the epoch. */
  readonly connectedAt: number;
}

/** An open connection and the name its user connected with. */
export interface OpenConnection extends ConnectionKey {
  readonly name: string;
}

/** The per-connection state a request needs, read back by the admission write. */
export interface ConnectionState {
  /** Rooms this connection has joined (after the admission's change). */
  readonly rooms: ReadonlySet<string>;
  /** The `exp` of the latest `auth` renewal, seconds; absent when never renewed. */
  readonly renewedExp?: number;
}

/** A change made by the same write that admits a request. */
export type AdmissionChange =
  /** Joins `joinRoom` unless the connection is already in `maxRooms` other rooms. */
  | { readonly joinRoom: string; readonly maxRooms: number }
  | { readonly leaveRoom: string }
  | { readonly renewExp: number };

export interface AdmitRequest {
  readonly key: ConnectionKey;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /**
   * Set when the connect token has expired: the request is admitted only if an
   * `auth` renewal stored an `exp` (seconds) of at least this value.
   */
  readonly renewedExpAtLeast?: number;
  readonly change?: AdmissionChange;
}

/** Why a request was or was not admitted. */
export type AdmitOutcome =
  | { readonly kind: 'admitted'; readonly connection: ConnectionState }
  | { readonly kind: 'gone' }
  | { readonly kind: 'token_expired' }
  | { readonly kind: 'rate_limited' }
  /** A `joinRoom` change would exceed its `maxRooms`. */
  | { readonly kind: 'room_limit' };

/** Open connections and their per-connection state. */
export interface ConnectionStore {
  /** Records a new connection. */
  put(connection: NewConnection): Promise<void>;
  /** The user's connections that are still open (expired records count as absent). */
  listByUser(userId: string): Promise<OpenConnection[]>;
  /**
   * Counts one request against the connection's rate limit and applies `change`,
   * in one conditional write. Nothing changes unless the outcome is `admitted`.
   */
  admit(request: AdmitRequest): Promise<AdmitOutcome>;
  /** Deletes the connection, returning the rooms it had joined. */
  remove(key: ConnectionKey, options?: RemovalGuard): Promise<Removal>;
  /** Takes a room off the connection's joined rooms (undoing a join), counting nothing. */
  forgetRoom(key: ConnectionKey, room: string): Promise<void>;
  /** How many shards `sweepPages` spreads the connections over. */
  readonly sweepShards: number;
  /**
   * The connections of one sweep shard that connected before `connectedBefore`
   * (ms), page by page, through an index (never a Scan). Eventually consistent.
   */
  sweepPages(shard: number, connectedBefore: number): AsyncIterable<readonly OpenConnection[]>;
}

/**
 * Which records a removal may delete when a post's 410 is all that says the
 * connection is gone: API Gateway answers 410 while `$connect` runs too.
 */
export interface RemovalGuard {
  /** A record connected at or after this time (ms) is left in place... */
  readonly connectedBefore?: number;
  /**
   * ...unless a request it sent arrived before this time (ms): it had
   * completed its handshake by then, so a 410 after it meant gone.
   */
  readonly openedBefore?: number;
}

/** What removing a connection record did. */
export type Removal =
  | { readonly kind: 'removed'; readonly rooms: string[] }
  | { readonly kind: 'absent' }
  /** Kept: connected too recently to be judged gone (its `$connect` may still be running). */
  | { readonly kind: 'recent' };

/** One user's presence in a room, with the connections through which it is there. */
export interface Member extends User {
  readonly connectionIds: readonly string[];
}

/** The span of time in which a gone connection is handed over once: [startMs, endMs). */
export interface HandOverWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** Room membership, one record per user and room. */
export interface RoomStore {
  /**
   * Adds a connection; `alreadyIn` is true when this connection was in the
   * room already. A user's first connection in a room is an arrival on the
   * table's stream, announced by the `presence` function.
   */
  addConnection(room: string, user: User, connectionId: string): Promise<{ alreadyIn: boolean }>;
  /**
   * Removes a connection, tolerating a record already gone. A user's last
   * connection leaving is a departure on the table's stream.
   */
  removeConnection(room: string, userId: string, connectionId: string): Promise<void>;
  /**
   * Claims connections found gone in the room for one hand-over to the
   * `prune` function in `window`, across every instance: resolves the ones
   * nobody claimed in that window yet, which the caller hands over. Many
   * instances' fan-outs meet the same gone connections until they are
   * removed; each is handed over once a window, not once per instance.
   */
  claimGone(
    room: string,
    connectionIds: readonly string[],
    window: HandOverWindow,
  ): Promise<string[]>;
  /** The room's members, page by page (strongly consistent). */
  memberPages(room: string): AsyncIterable<readonly Member[]>;
  /** Every member and the room's latest sequence number, read together. */
  snapshot(room: string): Promise<{ members: Member[]; seq: number }>;
}

/** Message history with per-room sequence numbers. */
export interface MessageStore {
  /** Takes the room's next sequence number (1, 2, 3, ...). */
  nextSeq(room: string): Promise<number>;
  /** Stores a message frame until `expiresAt` (seconds since the epoch). */
  put(message: MessageFrame, expiresAt: number): Promise<void>;
  /** Stored messages with `seq > after`, ascending, at most `limit`, and whether more remain. */
  after(
    room: string,
    after: number,
    limit: number,
    now: number,
  ): Promise<{ messages: MessageFrame[]; hasMore: boolean }>;
}

/** The outcome of posting to one connection. */
export type Delivery = 'delivered' | 'gone';

/** One connection to deliver to, with the user it belongs to. */
export interface Target extends User {
  readonly connectionId: string;
}

/** What posting one payload to a list of connections did. */
export interface DeliveryReport {
  readonly delivered: number;
  /** Posts that failed after retries; those members recover through `history`. */
  readonly failed: number;
  /** The connections found gone (nothing pruned yet). */
  readonly gone: Target[];
}

/**
 * Other functions that post a share of a large fan-out in parallel (the
 * `fanout` workers), so that a room of thousands is delivered in about the
 * time one function takes for `chunkSize` connections.
 */
export interface DeliveryWorkers {
  /** Connections per share; a fan-out to more than this many is split. */
  readonly chunkSize: number;
  /**
   * Has one worker post `payload` to `targets`. A worker that failed while
   * posting reports its targets as failed; rejects only when no worker ran
   * (refused or throttled), so the caller may post the share itself.
   */
  deliver(targets: readonly Target[], payload: string): Promise<DeliveryReport>;
}

/** A connection a post found gone, and the room whose fan-out found it (none for `direct`). */
export interface GoneConnection extends Target {
  readonly room?: string;
  /**
   * When the post that found it gone was sent, or earlier (ms since the
   * epoch). API Gateway answers 410 while a connection's `$connect` runs too:
   * a request the connection sent that arrived before this time shows it had
   * opened, so the 410 meant gone; one after it says nothing of the 410.
   * Absent for the sweeper's, which judges only connections past the grace.
   */
  readonly postedAt?: number;
}

/**
 * Hands connections found gone to asynchronous work that removes them (the
 * `prune` function): a request never waits on someone else's departure, and
 * their presence leaves are announced from the membership records' stream.
 */
export interface PruneQueue {
  /**
   * Hands the connections over; resolves once they are accepted, not removed.
   * Rejects when they could not be handed over (the sweeper finds them later).
   */
  enqueue(gone: readonly GoneConnection[]): Promise<void>;
}

/** Posts frames to connections (API Gateway's `PostToConnection`). */
export interface Notifier {
  /** Posts one serialized frame; resolves `gone` when the connection no longer exists. */
  post(connectionId: string, payload: string): Promise<Delivery>;
  /** Asks API Gateway whether the connection is open (`GetConnection`), sending nothing. */
  probe(connectionId: string): Promise<'live' | 'gone'>;
}

/** A verified token's identity claims. */
export interface VerifiedToken {
  readonly sub: string;
  readonly name: string;
  readonly rooms: readonly string[] | null;
  /** Seconds since the epoch. */
  readonly exp: number;
}

/** Verifies tokens by the rules of PROTOCOL.md section 1. */
export interface TokenVerifier {
  /** Resolves the claims of a valid token; rejects with a `TokenRejectedError` otherwise. */
  verify(token: string): Promise<VerifiedToken>;
}

type MetricNames = typeof METRIC;

/** The count metrics; `Errors` and `FanOutDuration` have their own methods. */
export type CountMetric = MetricNames[Exclude<keyof MetricNames, 'errors' | 'fanOutDuration'>];

/**
 * What the request paths did, in numbers (lambdas/shared/metric-names.ts).
 * Counts are summed until `flush`, which the handler calls once per invocation.
 */
export interface MetricsRecorder {
  /** Adds `value` to a count. */
  count(metric: CountMetric, value: number): void;
  /** Records how long one fan-out took, in milliseconds. */
  fanOutDuration(milliseconds: number): void;
  /** Counts one error frame answered, by its protocol code. */
  errorAnswered(code: ErrorCode): void;
  /** Publishes what was recorded since the last flush; writes nothing when nothing was. */
  flush(): void;
}

/** What the deployment's `beforeSend` hook made of a message's data. */
export type SendVerdict =
  /** Store and deliver `data`: the data sent, or the hook's replacement (a JSON value, not yet measured). */
  | { readonly kind: 'accepted'; readonly data: unknown; readonly replaced: boolean }
  /** Refuse with `forbidden`; `reason` is for the sender. */
  | { readonly kind: 'rejected'; readonly reason: string };

/**
 * The deployment's server hooks (lambdas/hooks/types.ts), each call within a
 * time budget. A hook the deployment did not give answers as if absent: the
 * join is allowed, the data kept, nothing else happens. Every method rejects
 * when its hook throws, overruns the budget or answers what it may not.
 */
export interface ServerHooks {
  /** Whether the deployment lets this user join the room. */
  authorizeJoin(identity: Identity, room: string): Promise<boolean>;
  /** Whether, and with what data, the deployment lets this message be sent. */
  beforeSend(identity: Identity, room: string, data: unknown): Promise<SendVerdict>;
  /** Tells the deployment a connection was stored. */
  onConnect(identity: Identity, connectionId: string): Promise<void>;
  /** Tells the deployment a connection was removed. */
  onDisconnect(identity: Identity, connectionId: string): Promise<void>;
}

/** Everything the request paths depend on. */
export interface Services {
  readonly connections: ConnectionStore;
  readonly rooms: RoomStore;
  readonly messages: MessageStore;
  readonly notifier: Notifier;
  /** Present in functions allowed to invoke the fan-out workers; without it every post is made here. */
  readonly workers?: DeliveryWorkers;
  /** Where gone connections go; present in every function that posts to connections. */
  readonly pruneQueue?: PruneQueue;
  readonly limits: Limits;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** @default - nothing is counted */
  readonly metrics?: MetricsRecorder;
  /** Asked by `join`, `send`, `$connect` and `$disconnect` only. @default - no hooks */
  readonly hooks?: ServerHooks;
}
