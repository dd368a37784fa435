import { Agent, createServer, type ServerResponse } from 'node:http';
import { answerDynamoError } from '../net/dynamo-error.js';
import { type LocalProxy, listenLocally } from '../net/local-proxy-server.js';
import { pipeThrough } from '../net/pipe-through.js';
import { readBody } from '../net/read-body.js';
import { type AccessCheck, type AccessDenial, accessKeyIdOfRequest } from './access-check.js';
import { dynamoAccessRequests } from './dynamo-access.js';

/** A proxy in front of the local DynamoDB that refuses what a function's role does not allow. */
export type DynamoIamProxy = LocalProxy;

/** DynamoDB's largest request (a BatchWriteItem of 25 items of 400 KB is under it). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * Starts an HTTP proxy on 127.0.0.1 in front of `target` that checks each
 * request a function signed against that function's role, as DynamoDB does:
 * a call the role does not allow is answered HTTP 400 with
 * `AccessDeniedException` and AWS's message, reaches nothing, and is passed
 * to `denied` (which logs it). Requests from anyone else pass unchecked.
 * @param access the current check (the stack's roles change on a reload)
 */
export async function startDynamoIamProxy(
  target: string,
  access: () => AccessCheck,
  tableArn: (table: string) => string,
  denied: (denial: AccessDenial) => void,
): Promise<DynamoIamProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((request, response) => {
    void (async () => {
      const body = (await readBody(request, MAX_REQUEST_BYTES)) ?? Buffer.alloc(0);
      const check = access();
      const caller = check.callerOf(accessKeyIdOfRequest(request.headers.authorization));
      if (caller !== undefined) {
        const operation = String(request.headers['x-amz-target'] ?? '');
        const denial = check.check(caller, dynamoAccessRequests(operation, parsed(body), tableArn));
        if (denial !== undefined) {
          denied(denial);
          return refuse(response, denial);
        }
      }
      pipeThrough(upstream, agent, request, response, body);
    })().catch(() => response.destroy());
  });
  return listenLocally(server, agent);
}

function parsed(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    // Not JSON: DynamoDB answers it with its own error, after this proxy.
    return undefined;
  }
}

function refuse(response: ServerResponse, denial: AccessDenial): void {
  answerDynamoError(response, 400, {
    __type: 'com.amazon.coral.service#AccessDeniedException',
    Message: denial.message,
  });
}
