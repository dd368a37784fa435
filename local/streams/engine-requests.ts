import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Item } from './attribute-values.js';

/** An engine's answer, read whole. */
export interface EngineReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Raw requests to a local DynamoDB engine over keep-alive sockets: the
 * callers' own requests, forwarded byte for byte, and the consistent reads
 * stream capture makes of its own. No SDK client: this is on every captured
 * write's path.
 */
export class EngineRequests {
  readonly #upstream: URL;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(endpoint: string) {
    this.#upstream = new URL(endpoint);
  }

  /** Sends a request as given and reads the whole answer. */
  send(path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<EngineReply> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: this.#upstream.hostname,
          port: this.#upstream.port,
          method: 'POST',
          path,
          headers: { ...withoutFraming(headers), 'content-length': String(body.length) },
          agent: this.#agent,
        },
        (reply) => {
          const chunks: Buffer[] = [];
          reply.on('data', (chunk: Buffer) => chunks.push(chunk));
          reply.on('end', () =>
            resolve({
              status: reply.statusCode ?? 502,
              headers: reply.headers,
              body: Buffer.concat(chunks),
            }),
          );
          reply.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  /** The item as it is now (a strongly consistent GetItem), undefined when there is none. */
  async getItem(table: string, key: Item): Promise<Item | undefined> {
    const reply = await this.send(
      '/',
      signedHeaders('GetItem'),
      Buffer.from(JSON.stringify({ TableName: table, Key: key, ConsistentRead: true })),
    );
    const answer = JSON.parse(reply.body.toString('utf8')) as { Item?: Item; message?: string };
    if (reply.status !== 200) {
      throw new Error(`GetItem on ${table} answered ${reply.status}: ${answer.message ?? ''}`);
    }
    return answer.Item;
  }

  /** Drops the keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }

  /** The agent, for streaming requests of the proxy that owns this. */
  get agent(): Agent {
    return this.#agent;
  }

  /** Where requests go. */
  get upstream(): URL {
    return this.#upstream;
  }
}

/**
 * Headers the engines accept: both want a SigV4-shaped Authorization header
 * and neither checks the signature (DynamoDB Local 2 wants a letters-only key).
 */
function signedHeaders(operation: string): IncomingHttpHeaders {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  return {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `DynamoDB_20120810.${operation}`,
    'x-amz-date': date,
    authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
  };
}

/** The headers without how the original body was framed: the body is sent whole. */
function withoutFraming(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { 'transfer-encoding': _, 'content-length': __, ...rest } = headers;
  return rest;
}
