import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultAnswer } from '../faults/fault-injector.js';
import { readBody } from '../net/read-body.js';
import type { WebSocketGateway } from './websocket-gateway.js';

/**
 * The stage's management API (`@connections`) as AWS answers it: POST sends,
 * GET describes, DELETE closes (firing `$disconnect`); an unknown connection
 * is HTTP 410 with `x-amzn-ErrorType: GoneException`. Signatures are not
 * verified locally. `authorize` decides, as IAM does, whether the caller may
 * `execute-api:ManageConnections` with this method on this connection: a
 * refusal is HTTP 403 with IAM's message. `faultOf` may answer a request
 * with an error (throttling, a server error) instead, leaving it unperformed.
 * Returns false when the request is not for the management API.
 */
export async function handleManagementRequest(
  gateway: WebSocketGateway,
  maxPostBytes: number,
  request: IncomingMessage,
  response: ServerResponse,
  faultOf: () => FaultAnswer | undefined = () => undefined,
  authorize: (method: string, connectionId: string) => { message: string } | undefined = () =>
    undefined,
): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const prefix = `${gateway.path}/@connections/`;
  if (!url.pathname.startsWith(prefix)) return false;
  const connectionId = decodeURIComponent(url.pathname.slice(prefix.length));
  const denial = authorize(request.method ?? 'GET', connectionId);
  if (denial !== undefined) {
    request.resume();
    return error(response, 403, 'AccessDeniedException', denial.message);
  }
  const fault = faultOf();
  if (fault !== undefined) {
    request.resume();
    return error(response, fault.status, fault.type, fault.message);
  }
  const connection = gateway.connections.get(connectionId);
  const live = connection?.state === 'open';

  switch (request.method) {
    case 'POST': {
      const body = await readBody(request, maxPostBytes);
      if (body === undefined) {
        return error(response, 413, 'PayloadTooLargeException', 'Message too long');
      }
      if (!live || !gateway.post(connectionId, body)) return gone(response);
      response.writeHead(200).end();
      return true;
    }
    case 'GET': {
      if (!live || connection === undefined) return gone(response);
      // The wire names are camelCase (the SDK maps them to ConnectedAt, Identity, LastActiveAt).
      const json = JSON.stringify({
        connectedAt: new Date(connection.source.connectedAt).toISOString(),
        identity: {
          sourceIp: connection.source.sourceIp,
          ...(connection.source.userAgent === undefined
            ? {}
            : { userAgent: connection.source.userAgent }),
        },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(json);
      return true;
    }
    case 'DELETE': {
      if (!live || !gateway.disconnect(connectionId)) return gone(response);
      response.writeHead(204).end();
      return true;
    }
    default:
      return error(response, 403, 'ForbiddenException', 'Forbidden');
  }
}

function gone(response: ServerResponse): true {
  return error(response, 410, 'GoneException', 'Gone');
}

function error(response: ServerResponse, status: number, type: string, message: string): true {
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': type })
    .end(JSON.stringify({ message }));
  return true;
}
