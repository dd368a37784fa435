import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { within } from './wait.js';

/** An HTTP answer, body as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request on a fresh connection (no keep-alive), bounded by `ms`. */
export function httpRequest(
  method: string,
  url: string,
  body?: string | Buffer,
  ms = 5000,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpAnswer> {
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    const outgoing = request(url, { method, agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
  return within(answer, ms, `${method} ${url}`);
}

/** A server on 127.0.0.1, on a free port. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `handle` (one of the local stack's request handlers, which resolves
 * whether the request was its own) on 127.0.0.1, answering 404 to the rest.
 */
export async function serveOnLoopback(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>,
): Promise<LoopbackServer> {
  const server = createServer((incoming, response) => {
    void handle(incoming, response).then((handled) => {
      if (!handled) response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
