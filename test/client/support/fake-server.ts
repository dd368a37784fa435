import {
  tokenExpiry,
  type WebSocketConstructorLike,
  type WebSocketLike,
} from '../../../client/index.js';
import type { ErrorCode, MessageFrame, ServerFrame, User } from '../../../protocol/messages.js';

type Listener = (event: never) => void;
type Request = { readonly action: string; readonly id?: string } & Record<string, unknown>;

/**
 * A socket the test plays the server of: `open`, `receive` and `drop` act as
 * the server and the network; `requests` holds what the client sent.
 */
export class FakeSocket implements WebSocketLike {
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  readonly sent: string[] = [];
  readonly closeCalls: Array<{ code?: number; reason?: string }> = [];
  onSend: ((request: Request) => void) | undefined;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {}

  /** The `token` query parameter the client connected with. */
  get token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }

  /** What the client sent, parsed. */
  get requests(): Request[] {
    return this.sent.map((text) => JSON.parse(text) as Request);
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.state !== 'open') throw new Error('InvalidStateError: the socket is not open');
    this.sent.push(data);
    this.onSend?.(JSON.parse(data) as Request);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({
      ...(code === undefined ? {} : { code }),
      ...(reason ? { reason } : {}),
    });
    if (this.state === 'closed') return;
    this.state = 'closed';
    queueMicrotask(() => this.emit('close', { code: code ?? 1005, reason: reason ?? '' }));
  }

  /** The handshake completes. */
  open(): void {
    this.state = 'open';
    this.emit('open', {});
  }

  /** The server sends a frame. */
  receive(frame: ServerFrame | Record<string, unknown>): void {
    if (this.state !== 'open') return;
    this.emit('message', { data: JSON.stringify(frame) });
  }

  /** The connection is lost (or, before `open`, the handshake refused): error, then close. */
  drop(code = 1006, reason = ''): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.emit('error', {});
    this.emit('close', { code, reason });
  }

  private emit(type: string, event: object): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (e: object) => void)(event);
  }
}

/** The user the fake server's replies treat as the client's own. */
export const alice: User = { userId: 'alice', name: 'Alice' };
/** Another member of the rooms. */
export const bob: User = { userId: 'bob', name: 'Bob' };

/**
 * An in-memory server behind {@link FakeSocket}s that answers requests as
 * PROTOCOL.md section 4 says, one microtask later; tests mute actions, refuse
 * handshakes and publish messages to drive the client.
 */
export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  readonly WebSocket: WebSocketConstructorLike;
  /** Stored messages per room, by seq. */
  readonly stored = new Map<string, MessageFrame[]>();
  /** The latest seq taken per room (a seq can be taken and never stored). */
  readonly latest = new Map<string, number>();
  /** Actions left unanswered. */
  readonly muted = new Set<string>();
  /** Actions answered with an error of this code. */
  readonly failing = new Map<string, ErrorCode>();
  /** Members the `joined` reply lists. */
  members: User[] = [alice];
  /** How many of the next handshakes are refused (closed before open). */
  refuseNext = 0;
  /** Whether handshakes complete on their own. */
  autoOpen = true;

  constructor() {
    const server = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url);
        server.accept(this);
      }
    };
  }

  /** The newest socket. */
  get socket(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error('no socket was created');
    return socket;
  }

  /** Requests of one action sent on any socket, oldest first. */
  requests(action: string): Request[] {
    return this.sockets.flatMap((socket) => socket.requests).filter((r) => r.action === action);
  }

  /** Takes the room's next seq and stores a message with it; returns the frame. */
  publish(room: string, data: unknown = null, from: User = bob): MessageFrame {
    const seq = (this.latest.get(room) ?? 0) + 1;
    this.latest.set(room, seq);
    const frame: MessageFrame = { type: 'message', room, seq, from, data, ts: 1_000 + seq };
    this.stored.set(room, [...(this.stored.get(room) ?? []), frame]);
    return frame;
  }

  /** Takes a seq that is never stored (a send that failed after its number was taken). */
  skip(room: string): number {
    const seq = (this.latest.get(room) ?? 0) + 1;
    this.latest.set(room, seq);
    return seq;
  }

  private accept(socket: FakeSocket): void {
    this.sockets.push(socket);
    socket.onSend = (request) => {
      if (this.muted.has(request.action)) return;
      const code = this.failing.get(request.action);
      const reply: ServerFrame | undefined =
        code === undefined
          ? this.answer(request)
          : {
              type: 'error',
              ...(request.id === undefined ? {} : { id: request.id }),
              code,
              message: `${request.action} failed with ${code}`,
            };
      if (reply !== undefined) queueMicrotask(() => socket.receive(reply));
    };
    queueMicrotask(() => {
      if (this.refuseNext > 0) {
        this.refuseNext -= 1;
        socket.drop(1006);
      } else if (this.autoOpen) socket.open();
    });
  }

  private answer(request: Request): ServerFrame | undefined {
    const id = request.id;
    const room = String(request.room);
    switch (request.action) {
      case 'join':
        return {
          type: 'joined',
          ...(id === undefined ? {} : { id }),
          room,
          members: this.members,
          seq: this.latest.get(room) ?? 0,
        };
      case 'leave':
        return { type: 'left', ...(id === undefined ? {} : { id }), room };
      case 'send': {
        const frame = this.publish(room, request.data, alice);
        return { type: 'ack', id: id ?? '', room, seq: frame.seq };
      }
      case 'direct':
        return { type: 'ack', id: id ?? '', delivered: 1 };
      case 'history': {
        const after = Number(request.after);
        const limit = Number(request.limit);
        const newer = (this.stored.get(room) ?? []).filter((m) => m.seq > after);
        return {
          type: 'history',
          ...(id === undefined ? {} : { id }),
          room,
          messages: newer.slice(0, limit),
          hasMore: newer.length > limit,
        };
      }
      case 'auth':
        return {
          type: 'authed',
          ...(id === undefined ? {} : { id }),
          exp: tokenExpiry(String(request.token)) ?? 0,
        };
      case 'ping':
        return { type: 'pong', ...(id === undefined ? {} : { id }), ts: Date.now() };
      default:
        return undefined;
    }
  }
}

/** An unsigned JWT whose payload holds `exp` (the client never verifies it). */
export function jwtExpiringAt(expSeconds: number, sub = 'alice'): string {
  const encode = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub, exp: expSeconds })}.c2ln`;
}
