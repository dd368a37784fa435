import {
  type Agent,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

/**
 * Sends a request to `upstream` and streams its answer back, untouched: what
 * the local stack's proxies do with every request they do not answer
 * themselves. The body is streamed through, or sent as `body` when the proxy
 * already read it to look inside. A broken upstream reaches the client as a
 * reset connection, which the SDK retries.
 */
export function pipeThrough(
  upstream: URL,
  agent: Agent,
  request: IncomingMessage,
  response: ServerResponse,
  body?: Buffer,
): void {
  // A body already read goes in one piece, with its length, whatever framing it came with.
  const { 'transfer-encoding': framing, ...unframed } = request.headers;
  const headers =
    body === undefined ? request.headers : { ...unframed, 'content-length': String(body.length) };
  const forwarded = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers,
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
  if (body === undefined) request.pipe(forwarded);
  else forwarded.end(body);
}
