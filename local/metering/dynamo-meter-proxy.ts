import { Agent, createServer, request as httpRequest } from 'node:http';
import { type LocalProxy, listenLocally } from '../net/local-proxy-server.js';
import type { Meter } from './meter.js';

/** A proxy in front of a local DynamoDB that meters every request. */
export type DynamoMeterProxy = LocalProxy;

/** Operations that accept `ReturnConsumedCapacity`. */
const METERABLE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

/**
 * Starts an HTTP proxy on 127.0.0.1 that forwards DynamoDB requests to
 * `target` and records each one in `meter`, with the capacity it consumed.
 * Requests that do not ask for `ReturnConsumedCapacity` get `TOTAL` added, so
 * the functions need no metering code; they ignore the extra field in answers.
 * The engine's own unit arithmetic (item size rounding, strongly consistent
 * reads at a full unit per 4 KB) decides the figures.
 */
export async function startDynamoMeterProxy(
  target: string,
  meter: Meter,
): Promise<DynamoMeterProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'Unknown';
    let body = Buffer.concat(chunks);
    if (METERABLE.has(operation)) {
      const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      input.ReturnConsumedCapacity ??= 'TOTAL';
      body = Buffer.from(JSON.stringify(input));
    }
    // The SDK signed the original body; the engine does not check signatures.
    const headers = { ...request.headers, 'content-length': String(body.length) };
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers,
        agent,
      },
      async (reply) => {
        const answer: Buffer[] = [];
        for await (const chunk of reply) answer.push(chunk as Buffer);
        const text = Buffer.concat(answer);
        meter.dynamo(operation, capacityOf(text));
        response.writeHead(reply.statusCode ?? 502, reply.headers).end(text);
      },
    );
    forwarded.on('error', () => response.destroy());
    forwarded.end(body);
  });
  return listenLocally(server, agent);
}

/** The capacity units an answer reports: one object, or one per table for batches. */
function capacityOf(answer: Buffer): number {
  try {
    const parsed = JSON.parse(answer.toString('utf8')) as {
      ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
    };
    const consumed = parsed.ConsumedCapacity;
    const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
    return list.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
  } catch {
    return 0;
  }
}
