import {
  type Agent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

/**
 * Sends a request whose body was already read to `upstream`, with its
 * headers, and streams the answer back untouched: what a proxy does after
 * looking inside a request. A broken upstream reaches the client as a reset
 * connection, which the SDK retries.
 */
export function forwardWithBody(
  upstream: URL,
  agent: Agent,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
): void {
  // The body goes in one piece, with its length, whatever framing it came with.
  const { 'transfer-encoding': _framing, ...headers } = request.headers;
  const forwarded = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: { ...headers, 'content-length': String(body.length) },
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
  forwarded.end(body);
}
