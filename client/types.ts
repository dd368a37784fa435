import type {
  DirectFrame,
  MessageFrame,
  PresenceFrame,
  TypingFrame,
  User,
} from '../protocol/messages.js';
import type { RealtimeError } from './errors.js';
import type { WebSocketConstructorLike } from './websocket-like.js';

/**
 * - `connecting`: the first connection (after `connect()`) is being made.
 * - `open`: connected; joined rooms are being or have been rejoined.
 * - `reconnecting`: a connection that was open dropped; waiting or trying again.
 * - `closed`: not connected and not trying: before `connect()`, after
 *   `close()`, or after a terminal refusal (see `RealtimeClientOptions.token`).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * A change of state. `reason` says why (`'closed by client'`, `'no token'`,
 * `'handshake refused'`, `'renewal refused'`, `'heartbeat timeout'`,
 * `'max connection age'`, `'connection closed (1006)'`, ...); `attempt`
 * counts the reconnect attempts since the connection was last stable.
 */
export interface StateChange {
  readonly state: ConnectionState;
  readonly reason?: string;
  readonly attempt?: number;
}

/** How reconnects are paced. */
export interface ReconnectOptions {
  /** @default 500 */
  readonly initialDelayMs?: number;
  /** @default 30_000 */
  readonly maxDelayMs?: number;
  /** @default 2 */
  readonly factor?: number;
  /**
   * Consecutive attempts that closed before opening after which the client
   * gives up with state `closed`, reason `'handshake refused'`. @default 10
   */
  readonly maxHandshakeFailures?: number;
  /** How long a connection must stay open for the backoff to start again from `initialDelayMs`. @default 10_000 */
  readonly resetAfterMs?: number;
}

/**
 * Options of a {@link RealtimeClient}.
 *
 * @example
 * const options: RealtimeClientOptions = {
 *   url: 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod',
 *   token: async () => (await (await fetch('/api/realtime-token')).json()).token,
 *   reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 },
 * };
 */
export interface RealtimeClientOptions {
  /** `ws(s)://host/stage`, without the token (the client adds `?token=`). */
  readonly url: string;
  /**
   * Gives the token for a connection. Called on EVERY connection attempt (so
   * a reconnect after expiry uses a fresh token) and for every renewal. When
   * it returns an empty token, the client stops for good (state `closed`,
   * reason `'no token'`); when it throws, the attempt counts as a failed
   * handshake and is retried with backoff (a renewal retries shortly).
   */
  readonly token: () => string | Promise<string>;
  /** @default globalThis.WebSocket */
  readonly WebSocket?: WebSocketConstructorLike;
  readonly reconnect?: ReconnectOptions;
  /** How long a request waits for its reply once sent. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** How long a connection attempt may take to open. @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** Interval of the app-level `ping` (API Gateway closes connections idle for 10 minutes). @default 240_000 */
  readonly heartbeatIntervalMs?: number;
  /** No `pong` within this time: the connection is dead and is replaced. @default 10_000 */
  readonly heartbeatTimeoutMs?: number;
  /** Age at which a connection is replaced, before API Gateway's 2-hour limit ends it. @default 6_900_000 */
  readonly maxConnectionMs?: number;
  /** How long before the token's `exp` an `auth` with a fresh token is sent. @default 60_000 */
  readonly renewBeforeExpiryMs?: number;
  /** Requests made while not connected wait, up to this many; more reject with `queue_full`. @default 100 */
  readonly maxQueuedRequests?: number;
  /** How long a gap in a room's seqs may stay open before it is given up on (a `gap` event). @default 5_000 */
  readonly gapTimeoutMs?: number;
  /** How long a gap may stay open before it is fetched from `history`. @default 250 */
  readonly gapFillDelayMs?: number;
  /** Source of randomness for the jitter; `Math.random` unless a test injects one. */
  readonly random?: () => number;
}

/** The payload of the `presence` event: a room's member list and what changed in it. */
export interface PresenceChange {
  readonly room: string;
  /** The room's members after the change, each user once, this client's own included. */
  readonly members: User[];
  /**
   * Users added to `members` by the change. For a joined reply: the users it
   * lists that the list before it did not (after a first join, everyone).
   */
  readonly joined: User[];
  /** Users removed from `members` by the change. */
  readonly left: User[];
  /** The presence frame applied; absent when a joined reply set the list. */
  readonly event?: PresenceFrame;
}

/** The events of a {@link RealtimeClient} and their payloads. */
export interface ClientEvents {
  state: StateChange;
  /** A room's messages: exactly once and in seq order per room. */
  message: MessageFrame;
  /**
   * A room's member list was set by a `joined` reply (a join, or the rejoin
   * after a reconnect), or changed by a presence frame. A frame that changes
   * nothing (it repeats a change the list already shows) emits no event.
   *
   * @example
   * client.on('presence', ({ room, members, joined, left, event }) => {
   *   renderMembers(room, members);
   *   // `event` is absent when a joined reply set the whole list.
   *   if (event === undefined) return;
   *   if (joined.length > 0) notice(`${joined.map((u) => u.name).join(', ')} joined`);
   *   if (left.length > 0) notice(`${left.map((u) => u.name).join(', ')} left`);
   * });
   */
  presence: PresenceChange;
  typing: TypingFrame;
  direct: DirectFrame;
  /** Seqs `from` to `to` (inclusive) were given up on after `gapTimeoutMs`. */
  gap: { readonly room: string; readonly from: number; readonly to: number };
  /** Errors not tied to a pending request (a failed `typing`, rejoin or renewal). */
  error: RealtimeError;
}
