import { Agent, createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultAnswer } from './fault-injector.js';

/** A proxy in front of a local DynamoDB that fails some requests. */
export interface DynamoFaultProxy {
  /** `http://127.0.0.1:<port>`: where the functions send their DynamoDB requests. */
  readonly endpoint: string;
  /** Stops serving and frees the port; safe to call twice. */
  close(): Promise<void>;
}

/** DynamoDB's JSON protocol: errors carry the type, namespaced, in `__type`. */
const DYNAMO_ERROR_NAMESPACE = 'com.amazonaws.dynamodb.v20120810#';

/**
 * Starts an HTTP proxy on 127.0.0.1 that forwards requests to `target`
 * unchanged, except those `faultOf` answers: they get DynamoDB's error for it
 * and never reach the engine, so the failed request had no effect, as a
 * throttled request in AWS has none.
 */
export async function startDynamoFaultProxy(
  target: string,
  faultOf: () => FaultAnswer | undefined,
): Promise<DynamoFaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    const fault = faultOf();
    if (fault !== undefined) {
      request.resume();
      return answer(response, fault);
    }
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
    // A broken upstream reaches the client as a reset connection, which the SDK retries.
    forwarded.on('error', () => response.destroy());
    response.on('close', () => {
      if (!response.writableFinished) forwarded.destroy();
    });
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}

function answer(response: ServerResponse, fault: FaultAnswer): void {
  const body = JSON.stringify({
    __type: `${DYNAMO_ERROR_NAMESPACE}${fault.type}`,
    message: fault.message,
  });
  response
    .writeHead(fault.status, {
      'Content-Type': 'application/x-amz-json-1.0',
      'Content-Length': Buffer.byteLength(body),
      'x-amzn-RequestId': crypto.randomUUID(),
    })
    .end(body);
}
