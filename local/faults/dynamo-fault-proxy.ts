import { Agent, createServer, type ServerResponse } from 'node:http';
import { answerDynamoError } from '../net/dynamo-error.js';
import { type LocalProxy, listenLocally } from '../net/local-proxy-server.js';
import { pipeThrough } from '../net/pipe-through.js';
import type { FaultAnswer } from './fault-injector.js';

/** A proxy in front of a local DynamoDB that fails some requests. */
export type DynamoFaultProxy = LocalProxy;

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
    pipeThrough(upstream, agent, request, response);
  });
  return listenLocally(server, agent);
}

function answer(response: ServerResponse, fault: FaultAnswer): void {
  answerDynamoError(response, fault.status, {
    __type: `${DYNAMO_ERROR_NAMESPACE}${fault.type}`,
    message: fault.message,
  });
}
