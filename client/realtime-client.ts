import type {
  ErrorFrame,
  HistoryFrame,
  JoinedFrame,
  ServerFrame,
  User,
} from '../protocol/messages.js';
import { LIMITS, ROOM_PATTERN } from '../protocol/messages.js';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { Emitter } from './emitter.js';
import { errorFromFrame, RealtimeError } from './errors.js';
import { OrderedDelivery } from './ordered-delivery.js';
import { type ReplyOf, type RequestOptions, RequestTracker } from './request-tracker.js';
import { RoomMembers } from './room-members.js';
import { tokenExpiry, tokenSubject } from './token-expiry.js';
import type { ClientEvents, ConnectionState, RealtimeClientOptions, StateChange } from './types.js';
import type {
  CloseEventLike,
  MessageEventLike,
  WebSocketConstructorLike,
  WebSocketLike,
} from './websocket-like.js';

type Timer = ReturnType<typeof setTimeout>;

const DEFAULTS = {
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  heartbeatIntervalMs: 240_000,
  heartbeatTimeoutMs: 10_000,
  // API Gateway ends every connection after 2 hours.
  maxConnectionMs: 2 * 3_600_000 - 5 * 60_000,
  renewBeforeExpiryMs: 60_000,
  maxQueuedRequests: 100,
  gapTimeoutMs: 5_000,
  gapFillDelayMs: 250,
  maxHandshakeFailures: 10,
  resetAfterMs: 10_000,
} as const;

/** setTimeout's largest delay; longer ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** A renewal that failed for a passing reason (`internal`) is tried again after this. */
const RENEW_RETRY_MS = 5_000;

type Settings = Omit<
  Required<RealtimeClientOptions>,
  'reconnect' | 'WebSocket' | 'token' | 'random' | 'url'
> & {
  readonly backoff: BackoffOptions;
  readonly maxHandshakeFailures: number;
  readonly resetAfterMs: number;
};

type TimerName = 'connect' | 'stable' | 'heartbeat' | 'maxAge' | 'drain' | 'renew';

interface Connection {
  readonly socket: WebSocketLike;
  readonly token: string;
  readonly timers: Map<TimerName, Timer>;
  opened: boolean;
  draining: boolean;
  renewing: boolean;
}

interface Room {
  readonly name: string;
  /** A `joined` reply arrived since `join()`. */
  confirmed: boolean;
  readonly members: RoomMembers;
  readonly delivery: OrderedDelivery;
}

/**
 * A client of the realtime backend for browsers and Node 22+, on the
 * platform's `WebSocket`, with no dependencies.
 *
 * It reconnects with capped exponential backoff and full jitter; renews its
 * token with `auth` before it expires; pings every `heartbeatIntervalMs` to
 * stay within API Gateway's idle limit and to detect a dead connection;
 * replaces its connection before API Gateway's 2-hour limit; rejoins every
 * joined room after a reconnect and fetches what it missed from `history`;
 * and hands each room's messages to the application exactly once, in seq order.
 *
 * Terminal refusals. A browser's `WebSocket` does not expose the HTTP status
 * of a refused handshake: a 401 or 403 looks exactly like a network failure
 * (close 1006 before `open`). So the client stops for good (state `closed`,
 * no more reconnects) when:
 * - the token provider returns an empty token (reason `'no token'`);
 * - `reconnect.maxHandshakeFailures` consecutive attempts closed before
 *   opening or found the token provider failing (reason `'handshake refused'`):
 *   a refused token, but also a long network outage, end up here;
 * - an `auth` renewal is answered `unauthorized` or `forbidden` (reason
 *   `'renewal refused'`, with the error also emitted as an `error` event).
 * After such a stop, `connect()` starts again (for example once the user has
 * signed in again, or on the browser's `online` event); after `close()` it
 * does nothing.
 *
 * Unanswered requests when the connection drops. Idempotent requests (`join`,
 * `leave`, `history`, `ping`) are sent again on the next connection. `send`
 * and `direct` are not, since they may have taken effect: they reject with
 * code `timeout`, meaning the outcome is unknown (a stored `send` still
 * arrives as a `message`). Requests answered `rate_limited` or `token_expired`
 * had no effect and are retried a few times. Everything pending when the
 * client stops rejects with code `closed`.
 */
export class RealtimeClient {
  private current: ConnectionState = 'closed';
  private readonly settings: Settings;
  private readonly createSocket: WebSocketConstructorLike;
  private readonly random: () => number;
  private readonly emitter = new Emitter<ClientEvents>();
  private readonly tracker: RequestTracker;
  private readonly rooms = new Map<string, Room>();
  /** Per room, the last send made: the next is written once it is answered. */
  private readonly sendTails = new Map<string, Promise<unknown>>();
  /** Sends made and not yet written, waiting behind an earlier one to their room. */
  private sendsWaiting = 0;
  private connection: Connection | undefined;
  /** The user id in the latest token, if it is a JWT: presence frames never name it. */
  private self: string | undefined;
  /** Bumped to abandon a connection attempt waiting for its token. */
  private generation = 0;
  private running = false;
  private stoppedOnce = false;
  private closedForGood = false;
  private everOpened = false;
  /** Reconnect attempts since a connection was last stable: the backoff's exponent. */
  private failures = 0;
  /** Consecutive attempts that closed before opening. */
  private handshakeFailures = 0;
  private reconnectTimer: Timer | undefined;

  /**
   * Creates a client; nothing happens until {@link connect}.
   *
   * @example
   * const client = new RealtimeClient({
   *   url: 'wss://abc123.execute-api.eu-west-1.amazonaws.com/prod',
   *   token: () => fetch('/api/realtime-token').then((r) => r.json()).then((b) => b.token),
   * });
   */
  constructor(private readonly options: RealtimeClientOptions) {
    const socketClass =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
    if (socketClass === undefined) {
      throw new TypeError('no global WebSocket on this platform: pass options.WebSocket');
    }
    this.createSocket = socketClass;
    this.random = options.random ?? Math.random;
    const reconnect = options.reconnect ?? {};
    this.settings = {
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? DEFAULTS.heartbeatTimeoutMs,
      maxConnectionMs: options.maxConnectionMs ?? DEFAULTS.maxConnectionMs,
      renewBeforeExpiryMs: options.renewBeforeExpiryMs ?? DEFAULTS.renewBeforeExpiryMs,
      maxQueuedRequests: options.maxQueuedRequests ?? DEFAULTS.maxQueuedRequests,
      gapTimeoutMs: options.gapTimeoutMs ?? DEFAULTS.gapTimeoutMs,
      gapFillDelayMs: options.gapFillDelayMs ?? DEFAULTS.gapFillDelayMs,
      backoff: {
        initialDelayMs: reconnect.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs,
        maxDelayMs: reconnect.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs,
        factor: reconnect.factor ?? DEFAULT_BACKOFF.factor,
      },
      maxHandshakeFailures: reconnect.maxHandshakeFailures ?? DEFAULTS.maxHandshakeFailures,
      resetAfterMs: reconnect.resetAfterMs ?? DEFAULTS.resetAfterMs,
    };
    this.tracker = new RequestTracker({
      timeoutMs: this.settings.requestTimeoutMs,
      maxQueued: this.settings.maxQueuedRequests,
      random: this.random,
      onTokenExpired: () => {
        if (this.connection !== undefined) void this.renew(this.connection);
      },
    });
  }

  /** The connection's state; every change is also a `state` event. */
  get state(): ConnectionState {
    return this.current;
  }

  /**
   * Starts connecting, and keeps reconnecting until {@link close} or a
   * terminal refusal. Calling it again while running does nothing.
   *
   * @example
   * client.on('state', ({ state, reason }) => console.log(state, reason ?? ''));
   * client.connect();
   */
  connect(): void {
    if (this.closedForGood || this.running) return;
    this.running = true;
    this.everOpened = false;
    this.failures = 0;
    this.handshakeFailures = 0;
    this.setState('connecting');
    void this.attempt();
  }

  /**
   * Closes the connection for good: state `closed`, reason `'closed by
   * client'`; queued and unanswered requests reject with code `closed`.
   *
   * @example
   * window.addEventListener('pagehide', () => client.close());
   */
  close(): void {
    if (this.closedForGood) return;
    this.closedForGood = true;
    this.stop('closed by client');
  }

  /**
   * Listens to an event; returns the function that stops listening.
   *
   * @example
   * const off = client.on('message', (m) => console.log(m.room, m.seq, m.from.name, m.data));
   * off();
   */
  on<E extends keyof ClientEvents>(
    event: E,
    listener: (payload: ClientEvents[E]) => void,
  ): () => void {
    return this.emitter.on(event, listener);
  }

  /**
   * Joins a room and remembers it: it is rejoined after every reconnect.
   * Messages are delivered from the reply's `seq` on (earlier ones are in
   * {@link history}); the reply's members start the room's member list.
   *
   * @example
   * const { members, seq } = await client.join('lobby');
   */
  async join(room: string): Promise<JoinedFrame> {
    this.assertUsable();
    assertRoom(room);
    let entry = this.rooms.get(room);
    if (entry === undefined) {
      entry = this.createRoom(room);
      this.rooms.set(room, entry);
    }
    const joining = entry;
    try {
      return await this.requestJoin(joining, { onDisconnect: 'resend' });
    } catch (error) {
      if (this.rooms.get(room) === joining && !joining.confirmed) this.forget(joining);
      throw error;
    }
  }

  /**
   * Leaves a room: it is forgotten at once (no more events for it, no rejoin).
   *
   * @example
   * await client.leave('lobby');
   */
  async leave(room: string): Promise<void> {
    this.assertUsable();
    assertRoom(room);
    const entry = this.rooms.get(room);
    if (entry !== undefined) this.forget(entry);
    await this.tracker.request({ action: 'leave', room }, { onDisconnect: 'resend' });
  }

  /**
   * Sends a message to a joined room; resolves with its seq once stored.
   * Made while offline, it waits in the queue (up to `maxQueuedRequests`).
   * A room's sends are written one at a time, each once the one before it
   * is answered: API Gateway runs a connection's frames side by side, so a
   * second send written before the first was stored could be stored first
   * and take the lower seq. So they are stored in the order they were made.
   *
   * @example
   * const { seq } = await client.send('lobby', { text: 'hello' });
   */
  async send(room: string, data: unknown): Promise<{ seq: number }> {
    this.assertUsable();
    const before = this.sendTails.get(room);
    if (
      before !== undefined &&
      this.sendsWaiting + this.tracker.queued >= this.settings.maxQueuedRequests
    ) {
      throw new RealtimeError(
        'queue_full',
        `${this.settings.maxQueuedRequests} requests already wait for the connection; send was not sent`,
      );
    }
    const request = () => this.tracker.request({ action: 'send', room, data });
    let sent: Promise<ReplyOf<'send'>>;
    if (before === undefined) sent = request();
    else {
      this.sendsWaiting += 1;
      sent = before.then(() => {
        this.sendsWaiting -= 1;
        return request();
      });
    }
    const tail = sent.catch(() => undefined);
    this.sendTails.set(room, tail);
    void tail.then(() => {
      if (this.sendTails.get(room) === tail) this.sendTails.delete(room);
    });
    const ack = await sent;
    if (ack.seq === undefined) throw new RealtimeError('internal', 'the ack of send has no seq');
    return { seq: ack.seq };
  }

  /**
   * Tells the room's other connections this user is typing. It has no reply:
   * it is dropped while not connected, and errors arrive as `error` events.
   *
   * @example
   * input.addEventListener('input', () => client.typing('lobby'));
   */
  typing(room: string): void {
    const connection = this.connection;
    if (connection === undefined || !this.tracker.isReady) return;
    connection.socket.send(JSON.stringify({ action: 'typing', room }));
  }

  /**
   * Sends data to every connection of a user; resolves with how many were reached.
   *
   * @example
   * const { delivered } = await client.direct('user-42', { text: 'psst' });
   */
  async direct(to: string, data: unknown): Promise<{ delivered: number }> {
    this.assertUsable();
    const ack = await this.tracker.request({ action: 'direct', to, data });
    if (ack.delivered === undefined) {
      throw new RealtimeError('internal', 'the ack of direct has no delivered count');
    }
    return { delivered: ack.delivered };
  }

  /**
   * Fetches stored messages of a joined room with `seq > after`, ascending.
   * They are returned, not emitted as `message` events.
   *
   * @example
   * const page = await client.history('lobby', { after: 0, limit: 50 });
   * for (const m of page.messages) render(m);
   */
  async history(
    room: string,
    options: { after?: number; limit?: number } = {},
  ): Promise<HistoryFrame> {
    this.assertUsable();
    return this.tracker.request(
      {
        action: 'history',
        room,
        after: options.after ?? 0,
        limit: options.limit ?? LIMITS.defaultHistoryLimit,
      },
      { onDisconnect: 'resend' },
    );
  }

  /**
   * Pings the server; resolves with the server's clock (ms since the epoch).
   *
   * @example
   * const skewMs = (await client.ping()) - Date.now();
   */
  async ping(): Promise<number> {
    this.assertUsable();
    const pong = await this.tracker.request({ action: 'ping' }, { onDisconnect: 'resend' });
    return pong.ts;
  }

  /**
   * The current members of a joined room (empty for any other room).
   *
   * @example
   * client.on('presence', ({ room }) => renderMembers(client.members(room)));
   */
  members(room: string): User[] {
    return this.rooms.get(room)?.members.users ?? [];
  }

  // --- connection lifecycle ---

  private async attempt(): Promise<void> {
    if (!this.running) return;
    const generation = ++this.generation;
    let token: string;
    try {
      token = await this.options.token();
    } catch {
      // Often transient (a fetch while offline): back off and count it like a
      // refused handshake, so a provider that keeps failing still ends the retries.
      if (generation === this.generation) this.retry('token provider failed', true);
      return;
    }
    if (generation !== this.generation) return;
    if (typeof token !== 'string' || token === '') {
      this.stop('no token');
      return;
    }
    this.self = tokenSubject(token);
    let socket: WebSocketLike;
    try {
      socket = new this.createSocket(withToken(this.options.url, token));
    } catch (cause) {
      // A malformed URL: no later attempt can do better.
      this.stop('invalid url', cause);
      return;
    }
    const connection: Connection = {
      socket,
      token,
      timers: new Map(),
      opened: false,
      draining: false,
      renewing: false,
    };
    this.connection = connection;
    socket.addEventListener('open', () => this.opened(connection));
    socket.addEventListener('message', (event) => this.received(connection, event));
    socket.addEventListener('close', (event) => this.lost(connection, describeClose(event)));
    socket.addEventListener('error', () => {
      // A close event follows every error event.
    });
    this.arm(connection, 'connect', this.settings.connectTimeoutMs, () =>
      this.lost(connection, 'connect timeout'),
    );
  }

  private opened(connection: Connection): void {
    if (this.connection !== connection) return;
    connection.opened = true;
    this.everOpened = true;
    this.handshakeFailures = 0;
    this.disarm(connection, 'connect');
    this.arm(connection, 'stable', this.settings.resetAfterMs, () => {
      this.failures = 0;
    });
    this.arm(connection, 'maxAge', this.settings.maxConnectionMs, () => this.recycle(connection));
    this.scheduleHeartbeat(connection);
    this.scheduleRenewal(connection, tokenExpiry(connection.token));
    this.tracker.attach((text) => connection.socket.send(text));
    for (const room of this.rooms.values()) room.delivery.hold();
    void this.recover(connection);
    this.setState('open');
  }

  /**
   * Rejoins every room joined on an earlier connection, then lets the queued
   * requests go. A room not yet confirmed still has its own `join` queued.
   */
  private async recover(connection: Connection): Promise<void> {
    const joined = [...this.rooms.values()].filter((room) => room.confirmed);
    await Promise.all(joined.map((room) => this.rejoin(connection, room)));
    if (this.connection === connection && !connection.draining) this.tracker.setReady();
  }

  private async rejoin(connection: Connection, room: Room): Promise<void> {
    let joined: JoinedFrame;
    try {
      joined = await this.requestJoin(room, { internal: true });
    } catch (error) {
      if (this.connection !== connection || this.rooms.get(room.name) !== room) return;
      if (hasCode(error, 'timeout')) {
        this.lost(connection, 'rejoin timeout');
        return;
      }
      this.forget(room);
      this.emitter.emit('error', asRealtimeError(error, room.name));
      return;
    }
    if (this.connection === connection && this.rooms.get(room.name) === room) {
      void this.catchUp(connection, room, joined.seq);
    }
  }

  /** Fetches what a rejoined room missed, from the last seq delivered up to `latest`. */
  private async catchUp(connection: Connection, room: Room, latest: number): Promise<void> {
    const current = () => this.connection === connection && this.rooms.get(room.name) === room;
    let after = room.delivery.last;
    try {
      while (after !== undefined && after < latest) {
        const page = await this.tracker.request(
          { action: 'history', room: room.name, after, limit: LIMITS.maxHistoryLimit },
          { internal: true },
        );
        if (!current()) return;
        for (const message of page.messages) room.delivery.push(message);
        const lastInPage = page.messages.at(-1)?.seq;
        if (!page.hasMore || lastInPage === undefined) break;
        after = lastInPage;
      }
    } catch (error) {
      if (!current()) return;
      this.emitter.emit('error', asRealtimeError(error, room.name));
    }
    room.delivery.release();
  }

  /** Fetches the messages of a gap, `after + 1` to `to`, from history. */
  private async fill(room: Room, after: number, to: number): Promise<void> {
    const connection = this.connection;
    if (connection === undefined || !connection.opened) return;
    let from = after;
    try {
      for (;;) {
        const page = await this.tracker.request(
          {
            action: 'history',
            room: room.name,
            after: from,
            limit: Math.min(LIMITS.maxHistoryLimit, Math.max(1, to - from)),
          },
          { internal: true },
        );
        if (this.connection !== connection || this.rooms.get(room.name) !== room) return;
        for (const message of page.messages) room.delivery.push(message);
        const lastInPage = page.messages.at(-1)?.seq;
        if (!page.hasMore || lastInPage === undefined || lastInPage >= to) return;
        from = lastInPage;
      }
    } catch {
      // The gap's own timeout decides what happens next.
    }
  }

  /** Drops the connection and, unless the client stops, schedules the next attempt. */
  private lost(connection: Connection, reason: string, immediate = false): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.release(connection);
    this.tracker.detach();
    for (const room of this.rooms.values()) {
      room.delivery.hold();
      room.members.disconnected();
    }
    this.retry(reason, !connection.opened, immediate);
  }

  /** Schedules the next attempt with backoff; gives up after too many failed handshakes. */
  private retry(reason: string, handshakeFailed: boolean, immediate = false): void {
    if (handshakeFailed) {
      this.handshakeFailures += 1;
      if (this.handshakeFailures >= this.settings.maxHandshakeFailures) {
        this.stop('handshake refused');
        return;
      }
    }
    const delay = immediate ? 0 : backoffDelay(this.failures, this.settings.backoff, this.random);
    this.failures += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.attempt();
    }, delay);
    this.setState(this.everOpened ? 'reconnecting' : 'connecting', reason, this.failures);
  }

  /** Stops: no connection, no more attempts, every pending request rejected with `closed`. */
  private stop(reason: string, cause?: unknown): void {
    this.running = false;
    this.stoppedOnce = true;
    this.generation += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) this.release(connection);
    this.tracker.detach();
    this.tracker.rejectAll(
      new RealtimeError(
        'closed',
        `the client stopped: ${reason}`,
        cause === undefined ? {} : { cause },
      ),
    );
    for (const room of [...this.rooms.values()]) {
      if (this.closedForGood) this.forget(room);
      else {
        room.delivery.hold();
        room.members.disconnected();
      }
    }
    this.setState('closed', reason);
  }

  /** Replaces an old connection: lets unanswered requests finish, then reconnects at once. */
  private recycle(connection: Connection): void {
    connection.draining = true;
    this.tracker.pause();
    const replace = () => this.lost(connection, 'max connection age', true);
    this.arm(connection, 'drain', this.settings.requestTimeoutMs, replace);
    void this.tracker.whenIdle().then(replace);
  }

  private release(connection: Connection): void {
    for (const timer of connection.timers.values()) clearTimeout(timer);
    connection.timers.clear();
    try {
      connection.socket.close(1000);
    } catch {
      // Already closed.
    }
  }

  // --- heartbeat and renewal ---

  private scheduleHeartbeat(connection: Connection): void {
    this.arm(connection, 'heartbeat', this.settings.heartbeatIntervalMs, () => {
      void this.beat(connection);
    });
  }

  private async beat(connection: Connection): Promise<void> {
    try {
      await this.tracker.request(
        { action: 'ping' },
        { internal: true, retry: false, timeoutMs: this.settings.heartbeatTimeoutMs },
      );
    } catch (error) {
      if (this.connection !== connection) return;
      if (hasCode(error, 'timeout')) {
        this.lost(connection, 'heartbeat timeout');
        return;
      }
      // Any other answer (rate_limited, token_expired) shows the connection alive.
    }
    if (this.connection === connection) this.scheduleHeartbeat(connection);
  }

  /**
   * Renews `renewBeforeExpiryMs` before `exp`, and no sooner than `minDelayMs`
   * (so that a provider handing out short-lived tokens cannot cause a loop of renewals).
   */
  private scheduleRenewal(connection: Connection, exp: number | undefined, minDelayMs = 0): void {
    if (exp === undefined) return;
    const delay = exp * 1000 - this.settings.renewBeforeExpiryMs - Date.now();
    this.arm(connection, 'renew', Math.min(Math.max(delay, minDelayMs), MAX_TIMER_MS), () => {
      void this.renew(connection);
    });
  }

  private async renew(connection: Connection): Promise<void> {
    if (connection.renewing || this.connection !== connection) return;
    connection.renewing = true;
    try {
      let token: string;
      try {
        token = await this.options.token();
      } catch {
        // The current token still serves until its exp: try again shortly.
        if (this.connection === connection) {
          this.arm(connection, 'renew', RENEW_RETRY_MS, () => {
            void this.renew(connection);
          });
        }
        return;
      }
      if (this.connection !== connection) return;
      if (typeof token !== 'string' || token === '') {
        this.stop('no token');
        return;
      }
      const authed = await this.tracker.request({ action: 'auth', token }, { internal: true });
      if (this.connection === connection) {
        this.scheduleRenewal(connection, authed.exp, RENEW_RETRY_MS);
      }
    } catch (error) {
      if (this.connection !== connection) return;
      if (hasCode(error, 'unauthorized') || hasCode(error, 'forbidden')) {
        this.emitter.emit('error', asRealtimeError(error));
        this.stop('renewal refused', error);
      } else if (hasCode(error, 'timeout')) {
        this.lost(connection, 'renewal timeout');
      } else {
        this.arm(connection, 'renew', RENEW_RETRY_MS, () => {
          void this.renew(connection);
        });
      }
    } finally {
      connection.renewing = false;
    }
  }

  // --- frames ---

  private received(connection: Connection, event: MessageEventLike): void {
    if (this.connection !== connection || typeof event.data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    if (typeof (frame as { type?: unknown }).type === 'string') {
      this.dispatch(frame as ServerFrame);
      return;
    }
    // API Gateway's own error frame ({"message": "Internal server error", ...}):
    // a function failed, and the request it answers will time out.
    const message = (frame as { message?: unknown }).message;
    if (typeof message === 'string') {
      this.emitter.emit('error', new RealtimeError('internal', `API Gateway: ${message}`));
    }
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'message':
        this.rooms.get(frame.room)?.delivery.push(frame);
        return;
      case 'presence':
        this.rooms.get(frame.room)?.members.presence(frame);
        return;
      case 'typing':
        this.emitter.emit('typing', frame);
        return;
      case 'direct':
        this.emitter.emit('direct', frame);
        return;
      case 'joined':
        this.joined(frame);
        this.tracker.handle(frame);
        return;
      case 'error':
        this.failed(frame);
        return;
      default:
        this.tracker.handle(frame);
    }
  }

  /** Any `joined` reply, to the application's join or the client's rejoin. */
  private joined(frame: JoinedFrame): void {
    const room = this.rooms.get(frame.room);
    if (room === undefined) return;
    room.confirmed = true;
    // Only the first join sets where delivery starts: a rejoin's seq is caught up from history.
    room.delivery.start(frame.seq);
    room.members.joined(frame.members);
  }

  private failed(frame: ErrorFrame): void {
    if (this.tracker.handle(frame)) return;
    // Errors with an id that matches nothing answer requests that already timed out.
    if (frame.id === undefined) this.emitter.emit('error', errorFromFrame(frame));
  }

  // --- helpers ---

  /** Sends a join; until it settles, the room's presence frames wait for its reply. */
  private async requestJoin(room: Room, options: RequestOptions): Promise<JoinedFrame> {
    room.members.joining();
    try {
      return await this.tracker.request({ action: 'join', room: room.name }, options);
    } finally {
      room.members.settled();
    }
  }

  private createRoom(name: string): Room {
    const delivery = new OrderedDelivery({
      gapTimeoutMs: this.settings.gapTimeoutMs,
      fillDelayMs: this.settings.gapFillDelayMs,
      deliver: (message) => this.emitter.emit('message', message),
      gap: (from, to) => this.emitter.emit('gap', { room: name, from, to }),
      fill: (after, to) => {
        const room = this.rooms.get(name);
        if (room !== undefined) void this.fill(room, after, to);
      },
    });
    const members = new RoomMembers({
      self: () => this.self,
      changed: (change) => this.emitter.emit('presence', { room: name, ...change }),
    });
    return { name, confirmed: false, members, delivery };
  }

  private forget(room: Room): void {
    room.delivery.dispose();
    room.members.dispose();
    this.rooms.delete(room.name);
  }

  /** Requests are refused at once only when no connection will ever come. */
  private assertUsable(): void {
    if (this.closedForGood || (this.stoppedOnce && !this.running)) {
      throw new RealtimeError('closed', 'the client is closed');
    }
  }

  private setState(state: ConnectionState, reason?: string, attempt?: number): void {
    this.current = state;
    const change: StateChange = {
      state,
      ...(reason === undefined ? {} : { reason }),
      ...(attempt === undefined ? {} : { attempt }),
    };
    this.emitter.emit('state', change);
  }

  private arm(connection: Connection, name: TimerName, ms: number, run: () => void): void {
    clearTimeout(connection.timers.get(name));
    connection.timers.set(
      name,
      setTimeout(() => {
        connection.timers.delete(name);
        run();
      }, ms),
    );
  }

  private disarm(connection: Connection, name: TimerName): void {
    clearTimeout(connection.timers.get(name));
    connection.timers.delete(name);
  }
}

function withToken(url: string, token: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

function describeClose(event: CloseEventLike): string {
  return `connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`;
}

function assertRoom(room: string): void {
  if (typeof room !== 'string' || !ROOM_PATTERN.test(room)) {
    throw new RealtimeError('bad_request', `invalid room name: ${JSON.stringify(room)}`);
  }
}

function hasCode(error: unknown, code: RealtimeError['code']): boolean {
  return error instanceof RealtimeError && error.code === code;
}

function asRealtimeError(error: unknown, room?: string): RealtimeError {
  if (error instanceof RealtimeError) return error;
  return new RealtimeError('internal', String(error), {
    cause: error,
    ...(room === undefined ? {} : { room }),
  });
}
