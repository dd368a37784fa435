import {
  type Action,
  type ClientRequest,
  type ErrorFrame,
  LIMITS,
  type ServerFrame,
} from '../protocol/messages.js';
import { errorFromFrame, RealtimeError } from './errors.js';

type Timer = ReturnType<typeof setTimeout>;

/** The reply frame type of each action that has one (PROTOCOL.md section 4). */
const REPLY_TYPES = {
  join: 'joined',
  leave: 'left',
  send: 'ack',
  direct: 'ack',
  history: 'history',
  auth: 'authed',
  ping: 'pong',
} as const satisfies Partial<Record<Action, ServerFrame['type']>>;

/** An action the server answers. */
export type ReplyingAction = keyof typeof REPLY_TYPES;

/** A request as the caller writes it: the tracker adds a fresh `id` to every transmission. */
export type RequestBody<A extends ReplyingAction> = Omit<
  Extract<ClientRequest, { action: A }>,
  'id'
>;

/** The reply frame of action `A`. */
export type ReplyOf<A extends ReplyingAction> = Extract<
  ServerFrame,
  { type: (typeof REPLY_TYPES)[A] }
>;

/** How one request is handled. */
export interface RequestOptions {
  /**
   * The client's own request (rejoin, catch-up, heartbeat, renewal): sent at
   * once on the current connection, even before it is ready for the
   * application's requests, never queued, and rejected with `timeout` when
   * the connection drops. @default false
   */
  readonly internal?: boolean;
  /**
   * What happens when the connection drops before the reply: `resend` queues
   * it again for the next connection (idempotent requests), `reject` rejects
   * it with `timeout` (the outcome is unknown). @default 'reject'
   */
  readonly onDisconnect?: 'resend' | 'reject';
  /** @default the tracker's timeoutMs */
  readonly timeoutMs?: number;
  /** Whether `rate_limited` and `token_expired` answers are retried. @default true */
  readonly retry?: boolean;
}

/** What a {@link RequestTracker} needs. */
export interface RequestTrackerOptions {
  readonly timeoutMs: number;
  readonly maxQueued: number;
  readonly random: () => number;
  /** Called when a request was refused with `token_expired`, before it is retried. */
  readonly onTokenExpired?: () => void;
}

interface Entry {
  readonly order: number;
  readonly body: RequestBody<ReplyingAction>;
  readonly options: RequestOptions;
  readonly resolve: (frame: ServerFrame) => void;
  readonly reject: (error: RealtimeError) => void;
  retries: number;
  timer?: Timer;
}

/**
 * A rejected request had no effect (PROTOCOL.md section 6), so these are
 * retried, even for `send`.
 */
const RETRIED_CODES: ReadonlySet<string> = new Set(['rate_limited', 'token_expired']);
const MAX_RETRIES = 4;
const RETRY_BASE_MS = 400;
/** Room for the `id` the tracker adds when a request's size is checked up front. */
const ID_ALLOWANCE = 'x'.repeat(16);

/**
 * Requests and their replies: a fresh `id` per transmission, a timeout per
 * request, a bounded queue of requests made while the connection is not
 * ready, and what happens to unanswered requests when it drops.
 */
export class RequestTracker {
  private transport: ((text: string) => void) | undefined;
  private ready = false;
  private queue: Entry[] = [];
  private readonly inFlight = new Map<string, Entry>();
  private readonly retrying = new Map<Entry, Timer>();
  private readonly idleWaiters: Array<() => void> = [];
  private counter = 0;
  private order = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly options: RequestTrackerOptions) {}

  /** Requests waiting for the connection to be ready. */
  get queued(): number {
    return this.queue.length;
  }

  /** True while the application's requests are sent at once rather than queued. */
  get isReady(): boolean {
    return this.ready && this.transport !== undefined;
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Sends a request, or queues it until the connection is ready; resolves with
   * its reply or rejects with a {@link RealtimeError}.
   */
  request<A extends ReplyingAction>(
    body: RequestBody<A> & { readonly action: A },
    options: RequestOptions = {},
  ): Promise<ReplyOf<A>> {
    const invalid = this.check(body);
    if (invalid !== undefined) return Promise.reject(invalid);
    return new Promise<ReplyOf<A>>((resolve, reject) => {
      const entry: Entry = {
        order: ++this.order,
        body,
        options,
        resolve: resolve as (frame: ServerFrame) => void,
        reject,
        retries: 0,
      };
      if (options.internal === true) {
        if (this.transport === undefined) reject(notConnected(body.action));
        else this.transmit(entry);
      } else if (this.ready && this.transport !== undefined) {
        this.transmit(entry);
      } else if (this.queue.length >= this.options.maxQueued) {
        reject(
          new RealtimeError(
            'queue_full',
            `${this.options.maxQueued} requests already wait for the connection; ${body.action} was not sent`,
          ),
        );
      } else {
        this.queue.push(entry);
      }
    });
  }

  /** A connection is open: internal requests may be sent. */
  attach(transport: (text: string) => void): void {
    this.transport = transport;
  }

  /** The connection is ready for the application's requests: the queue is sent, in order. */
  setReady(): void {
    if (this.transport === undefined) return;
    this.ready = true;
    while (this.ready && this.queue.length > 0) {
      const entry = this.queue.shift();
      if (entry !== undefined) this.transmit(entry);
    }
  }

  /** New requests of the application wait in the queue again (the connection is draining). */
  pause(): void {
    this.ready = false;
  }

  /**
   * The connection dropped: unanswered requests are queued again or rejected
   * with `timeout`, as their `onDisconnect` says; internal ones are rejected.
   * Requests waiting to retry after `rate_limited` are queued again whatever
   * their kind: the server said they had no effect.
   */
  detach(): void {
    this.transport = undefined;
    this.ready = false;
    const requeued: Entry[] = [];
    for (const entry of this.inFlight.values()) {
      clearTimeout(entry.timer);
      if (entry.options.internal === true || entry.options.onDisconnect !== 'resend') {
        entry.reject(
          new RealtimeError(
            'timeout',
            `the connection dropped before ${entry.body.action} was answered`,
          ),
        );
      } else {
        requeued.push(entry);
      }
    }
    this.inFlight.clear();
    for (const [entry, timer] of this.retrying) {
      clearTimeout(timer);
      if (entry.options.internal === true) entry.reject(notConnected(entry.body.action));
      else requeued.push(entry);
    }
    this.retrying.clear();
    this.queue = [...requeued, ...this.queue].sort((a, b) => a.order - b.order);
    this.notifyIdle();
  }

  /** Rejects every request, queued or unanswered, with `error`. */
  rejectAll(error: RealtimeError): void {
    const entries = [...this.queue, ...this.inFlight.values(), ...this.retrying.keys()];
    for (const entry of this.inFlight.values()) clearTimeout(entry.timer);
    for (const timer of this.retrying.values()) clearTimeout(timer);
    this.queue = [];
    this.inFlight.clear();
    this.retrying.clear();
    for (const entry of entries.sort((a, b) => a.order - b.order)) entry.reject(error);
    this.notifyIdle();
  }

  /** Resolves once no sent request waits for its reply. */
  whenIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Settles the request a reply or error frame answers; false when the frame
   * answers none (no `id`, or a request that already timed out).
   */
  handle(frame: ServerFrame): boolean {
    const id = 'id' in frame ? frame.id : undefined;
    if (id === undefined) return false;
    const entry = this.inFlight.get(id);
    if (entry === undefined) return false;
    this.inFlight.delete(id);
    clearTimeout(entry.timer);
    if (frame.type === 'error') this.refused(entry, frame);
    else if (frame.type !== REPLY_TYPES[entry.body.action]) {
      entry.reject(
        new RealtimeError('internal', `${entry.body.action} was answered with ${frame.type}`),
      );
    } else entry.resolve(frame);
    this.notifyIdle();
    return true;
  }

  private refused(entry: Entry, frame: ErrorFrame): void {
    if (
      !RETRIED_CODES.has(frame.code) ||
      entry.options.retry === false ||
      entry.retries >= MAX_RETRIES
    ) {
      entry.reject(errorFromFrame(frame, roomOf(entry.body)));
      return;
    }
    if (frame.code === 'token_expired') this.options.onTokenExpired?.();
    // Equal jitter: at least half the step, so that a burst really spreads out.
    const step = RETRY_BASE_MS * 2 ** entry.retries;
    const delay = step / 2 + Math.floor((step / 2) * this.options.random());
    entry.retries += 1;
    const timer = setTimeout(() => {
      this.retrying.delete(entry);
      if (this.transport === undefined) {
        // Unreachable: detach() takes every retrying entry. Kept for safety.
        entry.reject(notConnected(entry.body.action));
      } else if (entry.options.internal === true || this.ready) {
        this.transmit(entry);
      } else {
        this.queue = [...this.queue, entry].sort((a, b) => a.order - b.order);
      }
    }, delay);
    this.retrying.set(entry, timer);
  }

  private transmit(entry: Entry): void {
    const transport = this.transport;
    if (transport === undefined) {
      this.queue.unshift(entry);
      return;
    }
    this.counter += 1;
    const id = this.counter.toString(36);
    const timeoutMs = entry.options.timeoutMs ?? this.options.timeoutMs;
    entry.timer = setTimeout(() => {
      if (this.inFlight.get(id) !== entry) return;
      this.inFlight.delete(id);
      entry.reject(
        new RealtimeError('timeout', `no reply to ${entry.body.action} within ${timeoutMs} ms`, {
          ...(roomOf(entry.body) === undefined ? {} : { room: roomOf(entry.body) }),
        }),
      );
      this.notifyIdle();
    }, timeoutMs);
    this.inFlight.set(id, entry);
    // A socket that closed meanwhile drops the frame; its close event settles the entry.
    transport(JSON.stringify({ ...entry.body, id }));
  }

  /** A request that cannot be sent: `data` that is not JSON, or a frame over 32 KiB. */
  private check(body: RequestBody<ReplyingAction>): RealtimeError | undefined {
    let text: string | undefined;
    try {
      text = JSON.stringify({ ...body, id: ID_ALLOWANCE });
    } catch (cause) {
      return new RealtimeError('bad_request', `${body.action}: data is not JSON`, { cause });
    }
    const size = this.encoder.encode(text).length;
    if (size > LIMITS.maxFrameBytes) {
      // The gateway would close the whole connection with 1009 for it.
      return new RealtimeError(
        'too_large',
        `${body.action} would be a ${size}-byte frame; the limit is ${LIMITS.maxFrameBytes}`,
      );
    }
    return undefined;
  }

  private notifyIdle(): void {
    if (this.inFlight.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function roomOf(body: RequestBody<ReplyingAction>): string | undefined {
  const room = (body as { room?: unknown }).room;
  return typeof room === 'string' ? room : undefined;
}

function notConnected(action: string): RealtimeError {
  return new RealtimeError('timeout', `${action} could not be sent: not connected`);
}
