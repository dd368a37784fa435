import WebSocket, { type ClientOptions } from 'ws';
import { within } from './wait.js';

/** A frame the client received. */
export interface ReceivedFrame {
  readonly text: string;
  readonly binary: boolean;
}

/** How a socket closed. */
export interface CloseStatus {
  readonly code: number;
  readonly reason: string;
}

/** An open client socket that keeps every frame it receives. */
export class TestClient {
  readonly frames: ReceivedFrame[] = [];
  readonly closed: Promise<CloseStatus>;
  private read = 0;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data, binary) => {
      this.frames.push({ text: Buffer.from(data as Buffer).toString('utf8'), binary });
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    socket.on('error', () => {
      // 'close' follows; tests assert on the close status.
    });
  }

  /** The next frame not yet read, waiting at most `ms`. */
  async next(ms = 4000): Promise<ReceivedFrame> {
    const deadline = Date.now() + ms;
    while (this.frames.length <= this.read) {
      if (Date.now() > deadline) throw new Error(`no frame within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const frame = this.frames[this.read];
    this.read += 1;
    if (frame === undefined) throw new Error('frame vanished');
    return frame;
  }

  /** The next frame parsed as JSON. */
  async nextJson(ms = 4000): Promise<Record<string, unknown>> {
    return JSON.parse((await this.next(ms)).text) as Record<string, unknown>;
  }

  /**
   * Resolves once every frame the server sent before this call has arrived:
   * a WebSocket ping's pong follows them on the same socket. Asserting that
   * nothing arrived after it needs no guess of how long to wait.
   */
  async flush(ms = 4000): Promise<void> {
    const pong = new Promise<void>((resolve) => this.socket.once('pong', () => resolve()));
    this.socket.ping();
    await within(pong, ms, 'the pong');
  }

  /** How the socket closed, waiting at most `ms`. */
  closeStatus(ms = 4000): Promise<CloseStatus> {
    return within(this.closed, ms, 'the socket to close');
  }

  /** Closes the socket (terminating it if the close handshake stalls) and waits. */
  async dispose(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.terminate();
    await within(this.closed, 2000, 'the socket to be terminated');
  }
}

/** The outcome of a handshake: an open socket, or the HTTP answer of a refused upgrade. */
export type HandshakeOutcome =
  | { readonly kind: 'open'; readonly client: TestClient }
  | { readonly kind: 'refused'; readonly status: number; readonly body: string };

/** Opens a WebSocket to `url`, bounded by `ms`. */
export function handshake(
  url: string,
  options: ClientOptions = {},
  ms = 5000,
): Promise<HandshakeOutcome> {
  const outcome = new Promise<HandshakeOutcome>((resolve, reject) => {
    const socket = new WebSocket(url, options);
    let refused: HandshakeOutcome | undefined;
    socket.once('open', () => resolve({ kind: 'open', client: new TestClient(socket) }));
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        refused = {
          kind: 'refused',
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        socket.terminate();
      });
    });
    socket.on('error', (error) => {
      if (refused === undefined) reject(error);
    });
    socket.once('close', () => {
      if (refused !== undefined) resolve(refused);
    });
  });
  return within(outcome, ms, `the handshake with ${url}`);
}
