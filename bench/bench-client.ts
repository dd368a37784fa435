import WebSocket from 'ws';

/** A received `message` frame's data, as the bench sends it. */
export interface BenchData {
  readonly pattern: 'ours' | 'reference';
  readonly n: number;
  /** `performance.now()` of the publisher, in this same process. */
  readonly t: number;
}

/** One delivery: which message, and how long after its publish it arrived. */
export interface Delivery {
  readonly pattern: BenchData['pattern'];
  readonly n: number;
  readonly latencyMs: number;
}

/** A presence frame as received: when, and the user ids of its lists. */
export interface PresenceSeen {
  readonly at: number;
  readonly room: string;
  readonly joined: readonly string[];
  readonly left: readonly string[];
}

/**
 * A bench connection: a plain `ws` client (the SDK's ordering and recovery
 * would only add work to what is measured) that records when each bench
 * message arrives and answers requests by id.
 */
export class BenchClient {
  readonly deliveries: Delivery[] = [];
  /** Presence frames, in the order received. */
  readonly presence: PresenceSeen[] = [];
  /** Byte length of the last bench message frame received. */
  frameBytes = 0;
  private readonly pending = new Map<string, (frame: Record<string, unknown>) => void>();
  private nextId = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => this.receive(raw.toString()));
  }

  static open(url: string, token: string): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
      socket.once('open', () => resolve(new BenchClient(socket)));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`handshake refused with ${response.statusCode}`)),
      );
    });
  }

  /** Sends a request and resolves its reply (or error frame); fails after `timeoutMs`. */
  request(frame: Record<string, unknown>, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const id = `b${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${String(frame.action)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Sends a frame that gets no reply (the reference's one-way route). */
  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** How many bench messages of `pattern` with `n` in `ns` have arrived. */
  count(pattern: BenchData['pattern'], ns: ReadonlySet<number>): number {
    return this.deliveries.filter((d) => d.pattern === pattern && ns.has(d.n)).length;
  }

  close(): void {
    this.socket.close(1000);
  }

  private receive(text: string): void {
    const at = performance.now();
    const frame = JSON.parse(text) as Record<string, unknown>;
    if (typeof frame.id === 'string') this.pending.get(frame.id)?.(frame);
    if (frame.type === 'presence') {
      const ids = (users: unknown) => (users as { userId: string }[]).map((user) => user.userId);
      this.presence.push({
        at,
        room: String(frame.room),
        joined: ids(frame.joined),
        left: ids(frame.left),
      });
      return;
    }
    if (frame.type !== 'message') return;
    const data = frame.data as BenchData | undefined;
    if (data?.pattern === undefined) return;
    this.frameBytes = Buffer.byteLength(text);
    this.deliveries.push({ pattern: data.pattern, n: data.n, latencyMs: at - data.t });
  }
}
