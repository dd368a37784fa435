import {
  type Agent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

/**
 * Streams a request to `upstream` and its answer back, untouched: what the
 * local stack's proxies do with every request they do not answer themselves.
 * A broken upstream reaches the client as a reset connection, which the SDK
 * retries.
 */
export function pipeThrough(
  upstream: URL,
  agent: Agent,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const forwarded = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
      agent,
    },
    (reply) => {
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
    },
  );
  forwarded.on('error', () => response.destroy());
  response.on('close', () => {
    if (!response.writableFinished) forwarded.destroy();
  });
  request.pipe(forwarded);
}
