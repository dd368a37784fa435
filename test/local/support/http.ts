import { type IncomingHttpHeaders, request } from 'node:http';
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
