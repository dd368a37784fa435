import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { answerDynamoError } from '../net/dynamo-error.js';
import { type LocalProxy, listenLocally } from '../net/local-proxy-server.js';
import { pipeThrough } from '../net/pipe-through.js';
import { type Item, itemId } from './attribute-values.js';
import { type EngineReply, EngineRequests } from './engine-requests.js';
import { KeyLocks } from './key-locks.js';
import { type CapturedRecord, recordOf, type StreamTable } from './stream-record.js';
import { StreamSequencer } from './stream-sequencer.js';
import { maybeWrites, type WriteTarget, type WriteTargets, writeTargets } from './write-targets.js';

/** What the stream capture proxy captures, and where records go. */
export interface DynamoStreamProxyOptions {
  /** The engine's endpoint. */
  readonly target: string;
  readonly tables: readonly StreamTable[];
  /**
   * Whether records of an item could be used; writes to other items pass
   * straight through, unread and unlocked.
   * @default every item
   */
  readonly wanted?: (table: StreamTable, key: Item) => boolean;
  /** Receives each record, in stream order. */
  readonly publish: (captured: CapturedRecord) => void;
  /** The records' `awsRegion`. */
  readonly region: string;
  readonly log: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A proxy in front of a local DynamoDB that writes the stream records of stream-enabled tables. */
export interface DynamoStreamProxy extends LocalProxy {
  /** Whether a captured write is still being read or answered. */
  readonly busy: boolean;
  /** Resolves once no captured write is in progress. */
  idle(): Promise<void>;
}

// DynamoDB's JSON protocol: errors carry the type, namespaced, in `__type`.
const VALIDATION_ERROR = 'com.amazonaws.dynamodb.v20120810#ValidationException';

/**
 * Starts an HTTP proxy on 127.0.0.1 that emulates DynamoDB Streams for an
 * engine that has none. A write to an item of a stream-enabled table runs
 * after the item's earlier writes through this proxy: the proxy reads the
 * item (consistently), forwards the write unchanged, answers with exactly the
 * engine's answer, reads the item again and publishes an INSERT, MODIFY or
 * REMOVE record when it changed, carrying the images the table's
 * StreamViewType asks for. A refused write (4xx) changed nothing, so its new
 * image is not read. Records are numbered in the order writes were answered
 * and published in that order. Reads, other tables and unwanted items pass
 * straight through.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
 */
export async function startDynamoStreamProxy(
  options: DynamoStreamProxyOptions,
): Promise<DynamoStreamProxy> {
  const engine = new EngineRequests(options.target);
  const tables = new Map(options.tables.map((table) => [table.name, table]));
  const wanted = options.wanted ?? (() => true);
  const now = options.now ?? Date.now;
  const locks = new KeyLocks();
  const sequencer = new StreamSequencer<CapturedRecord>((_, captured) => options.publish(captured));
  let pending = 0;
  const idleWaiters: (() => void)[] = [];

  async function capture(
    targets: readonly WriteTarget[],
    operation: string,
    request: IncomingMessage,
    body: Buffer,
    response: ServerResponse,
  ): Promise<void> {
    const release = await locks.acquire(
      targets.map(({ table, key }) => itemId(table.name, key, table.keySchema)),
    );
    let tickets: ReturnType<typeof sequencer.reserve>[] = [];
    try {
      const before = await Promise.all(
        targets.map(({ table, key }) => engine.getItem(table.name, key)),
      );
      const reply = await engine.send(request.url ?? '/', request.headers, body);
      tickets = targets.map(() => sequencer.reserve());
      const nowMs = now();
      answer(response, reply);
      if (reply.status >= 400 && reply.status < 500) {
        for (const ticket of tickets) ticket.settle(undefined);
        return;
      }
      const deleted = operation === 'DeleteItem' && reply.status === 200;
      const after = await Promise.all(
        targets.map(({ table, key }) => (deleted ? undefined : engine.getItem(table.name, key))),
      );
      targets.forEach(({ table }, index) => {
        const ticket = tickets[index];
        ticket?.settle(
          recordOf({
            table,
            oldImage: before[index],
            newImage: after[index],
            position: ticket.position,
            region: options.region,
            nowMs,
          }),
        );
      });
    } catch (error) {
      for (const ticket of tickets) ticket.settle(undefined);
      if (!response.headersSent) response.destroy();
      else options.log(`stream capture lost the record of a ${operation}: ${String(error)}`);
    } finally {
      release();
    }
  }

  const server = createServer((request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    if (!maybeWrites(operation))
      return pipeThrough(engine.upstream, engine.agent, request, response);
    pending += 1;
    void handleWrite(operation, request, response).finally(() => {
      pending -= 1;
      if (pending === 0) for (const resolve of idleWaiters.splice(0)) resolve();
    });
  });

  async function handleWrite(
    operation: string,
    request: IncomingMessage,
    response: ServerResponse,
  ) {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of request) chunks.push(chunk as Buffer);
    } catch {
      return response.destroy();
    }
    const body = Buffer.concat(chunks);
    const found = targetsOf(operation, body, tables);
    if (found?.kind === 'unsupported') {
      options.log(`stream capture refused a request: ${found.reason}`);
      return refuse(response, found.reason);
    }
    const targets = unique(found?.targets ?? []).filter(({ table, key }) => wanted(table, key));
    if (targets.length > 0) return capture(targets, operation, request, body, response);
    try {
      answer(response, await engine.send(request.url ?? '/', request.headers, body));
    } catch {
      response.destroy();
    }
  }

  const proxy = await listenLocally(server, engine.agent);
  return {
    endpoint: proxy.endpoint,
    close: proxy.close,
    get busy() {
      return pending > 0;
    },
    idle() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}

function answer(response: ServerResponse, reply: EngineReply): void {
  response.writeHead(reply.status, reply.headers).end(reply.body);
}

function refuse(response: ServerResponse, message: string): void {
  answerDynamoError(response, 400, { __type: VALIDATION_ERROR, message });
}

/** What a write request's body names; nothing when it is malformed, which the engine refuses. */
function targetsOf(
  operation: string,
  body: Buffer,
  tables: ReadonlyMap<string, StreamTable>,
): WriteTargets | undefined {
  try {
    const input: unknown = JSON.parse(body.toString('utf8'));
    if (typeof input !== 'object' || input === null) return undefined;
    return writeTargets(operation, input as Record<string, unknown>, tables);
  } catch {
    return undefined;
  }
}

/** Targets without repeats: a request naming an item twice is refused by the engine anyway. */
function unique(targets: readonly WriteTarget[]): WriteTarget[] {
  const seen = new Set<string>();
  return targets.filter(({ table, key }) => {
    const id = itemId(table.name, key, table.keySchema);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
