import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import WebSocket from 'ws';

/** A server frame as received: parsed JSON, loosely typed for assertions. */
export type Frame = Record<string, unknown>;

/** Bound on every wait of the helpers, unless a test asks for another. */
export const WAIT_MS = 5_000;

/** The handshake was answered with an HTTP status instead of 101. */
export class HandshakeRefusedError extends Error {
  override readonly name = 'HandshakeRefusedError';

  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the upgrade was refused with HTTP ${status}: ${body}`);
  }
}

/** How to open a {@link TestClient}. */
export interface OpenOptions {
  /** The `Origin` header; none when absent, as a non-browser client sends. */
  readonly origin?: string;
  /** @default WAIT_MS */
  readonly timeoutMs?: number;
}

interface Waiter {
  readonly predicate: (frame: Frame) => boolean;
  readonly resolve: (frame: Frame) => void;
}

/** How a socket closed. */
export interface Closure {
  readonly code: number;
  readonly reason: string;
}

/**
 * A real WebSocket client of the local stack that keeps every frame it
 * receives. Frames are handed out once: `next` takes the first frame not yet
 * taken that matches, whether it arrived before or after the call, and
 * `expectNothing` fails on any frame nobody took.
 */
export class TestClient {
  /** Every frame received, in order of arrival. */
  readonly frames: Frame[] = [];
  /** Sent as `User-Agent`, so the gateway's record of this connection can be found. */
  readonly tag: string;
  /** Settles when the socket has closed, with the close code the client saw. */
  readonly closed: Promise<Closure>;
  private readonly taken = new Set<Frame>();
  private waiters: Waiter[] = [];
  private requests = 0;

  private constructor(
    readonly socket: WebSocket,
    tag: string,
  ) {
    this.tag = tag;
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    socket.on('message', (data, isBinary) => this.receive(data.toString(), isBinary));
  }

  /**
   * Opens a socket to `url` with `token` in the query string (omitted when
   * undefined); resolves once open, rejects with a {@link HandshakeRefusedError}
   * when the upgrade is refused.
   */
  static open(url: string, token: string | undefined, options: OpenOptions = {}) {
    const tag = `integration-${randomUUID()}`;
    const address = token === undefined ? url : `${url}?token=${encodeURIComponent(token)}`;
    const socket = new WebSocket(address, {
      headers: { 'User-Agent': tag },
      ...(options.origin === undefined ? {} : { origin: options.origin }),
    });
    const client = new TestClient(socket, tag);
    return new Promise<TestClient>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no answer to the upgrade within ${options.timeoutMs ?? WAIT_MS} ms`));
      }, options.timeoutMs ?? WAIT_MS);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      socket.once('unexpected-response', (request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('end', () => {
          clearTimeout(timer);
          request.destroy();
          const body = Buffer.concat(chunks).toString();
          reject(new HandshakeRefusedError(response.statusCode ?? 0, body));
        });
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends a frame as JSON, as given. */
  send(frame: unknown): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /** Sends text as one frame, as given. */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Sends `frame` with a fresh `id` and resolves the reply or error echoing it. */
  request(frame: Frame, timeoutMs = WAIT_MS): Promise<Frame> {
    const id = `${this.tag.slice(-8)}-${++this.requests}`;
    this.send({ ...frame, id });
    return this.next(
      (reply) => reply.id === id,
      timeoutMs,
      `the reply to ${JSON.stringify(frame)}`,
    );
  }

  /** The first frame not yet taken that matches, waiting at most `timeoutMs` for it. */
  next(
    predicate: (frame: Frame) => boolean,
    timeoutMs = WAIT_MS,
    what = 'a frame',
  ): Promise<Frame> {
    const found = this.frames.find((frame) => !this.taken.has(frame) && predicate(frame));
    if (found !== undefined) {
      this.taken.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(
          new Error(
            `${this.tag}: no ${what} within ${timeoutMs} ms; untaken frames: ${JSON.stringify(this.untaken())}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next frame not yet taken of a type (and matching `fields`, when given). */
  nextOfType(type: string, fields: Frame = {}, timeoutMs = WAIT_MS): Promise<Frame> {
    return this.next(
      (frame) =>
        frame.type === type &&
        Object.entries(fields).every(
          ([key, value]) => JSON.stringify(frame[key]) === JSON.stringify(value),
        ),
      timeoutMs,
      `${type} frame like ${JSON.stringify(fields)}`,
    );
  }

  /**
   * The next `presence` frame not yet taken whose `joined` lists user `joined`
   * and whose `left` lists user `left` (each when given), wherever the frame
   * puts other users: frames are coalesced, so one may carry other changes too.
   */
  nextPresence(change: PresenceChange, timeoutMs = WAIT_MS): Promise<Frame> {
    return this.next(
      isPresence(change),
      timeoutMs,
      `presence frame with ${JSON.stringify(change)}`,
    );
  }

  /**
   * Marks every `presence` frame received so far as taken, once the frames
   * the server sent before this call have arrived; resolves those frames.
   */
  async takePendingPresence(): Promise<Frame[]> {
    await this.flush();
    const pending = this.untaken().filter((frame) => frame.type === 'presence');
    for (const frame of pending) this.taken.add(frame);
    return pending;
  }

  /**
   * Resolves once every frame the server sent before this call has arrived:
   * a WebSocket ping's pong follows them on the same socket. Control frames
   * reach no route, so this costs no request against the rate limit.
   */
  async flush(timeoutMs = WAIT_MS): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const pong = new Promise<void>((resolve) => this.socket.once('pong', () => resolve()));
    this.socket.ping();
    await within(pong, timeoutMs, `${this.tag}'s pong`);
  }

  /**
   * The first frame not yet taken that matches `predicate`, taken, once the
   * frames the server sent before this call have arrived; undefined when none
   * has. Call it after the work that could send one has finished.
   */
  async takeArrived(predicate: (frame: Frame) => boolean): Promise<Frame | undefined> {
    await this.flush();
    const frame = this.untaken().find(predicate);
    if (frame !== undefined) this.taken.add(frame);
    return frame;
  }

  /**
   * Asserts, without waiting for anything to happen, that no frame nobody took
   * has arrived (matching `predicate`, when given), once the frames the
   * server sent before this call have arrived. Call it after the work that
   * could send one has finished (the stack fixture's `settled`).
   */
  async expectNothingReceived(predicate: (frame: Frame) => boolean = () => true): Promise<void> {
    await this.flush();
    expect(this.untaken().filter(predicate), `${this.tag} received unexpected frames`).toEqual([]);
  }

  /** Takes `count` matching frames, in order of arrival. */
  async take(count: number, predicate: (frame: Frame) => boolean, timeoutMs = WAIT_MS) {
    const frames: Frame[] = [];
    for (let i = 0; i < count; i++) frames.push(await this.next(predicate, timeoutMs));
    return frames;
  }

  /** Frames received but not taken yet. */
  untaken(): Frame[] {
    return this.frames.filter((frame) => !this.taken.has(frame));
  }

  /** Closes with a close frame and waits (bounded) for the socket to be closed. */
  async close(code = 1000): Promise<Closure> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(code);
    return within(this.closed, WAIT_MS, `${this.tag} to close`);
  }

  /** Drops the TCP connection without a close frame. */
  kill(): void {
    this.socket.terminate();
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  private receive(text: string, isBinary: boolean): void {
    let frame: Frame;
    try {
      const parsed: unknown = JSON.parse(text);
      frame =
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? (parsed as Frame)
          : { unexpected: parsed };
    } catch {
      frame = { unparsable: text };
    }
    if (isBinary) frame = { binary: text };
    this.frames.push(frame);
    const waiter = this.waiters.find((candidate) => candidate.predicate(frame));
    if (waiter !== undefined) {
      this.waiters = this.waiters.filter((other) => other !== waiter);
      this.taken.add(frame);
      waiter.resolve(frame);
    }
  }
}

/** Users a `presence` frame must name: in `joined`, in `left`. */
export interface PresenceChange {
  readonly joined?: string;
  readonly left?: string;
}

/** Whether a frame is a `presence` frame naming the users of `change` in their lists. */
export function isPresence(change: PresenceChange = {}): (frame: Frame) => boolean {
  const lists = (userId: string | undefined, list: unknown) =>
    userId === undefined ||
    (Array.isArray(list) && list.some((member: Frame) => member.userId === userId));
  return (frame) =>
    frame.type === 'presence' &&
    lists(change.joined, frame.joined) &&
    lists(change.left, frame.left);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns a value other than undefined, for at most `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms: number,
  what: string,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await sleep(everyMs);
  }
}
