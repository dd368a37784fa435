import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { stringifyJson } from '../../protocol/json.js';
import type { ServerFrame } from '../../protocol/messages.js';

/** A WebSocket route event; the authorizer context is not in @types/aws-lambda's type. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  readonly requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & {
    readonly authorizer?: unknown;
  };
};

/** What a route integration returns; on two-way routes the body is sent to the client. */
export interface RouteResult {
  readonly statusCode: number;
  readonly body?: string;
}

/** A reply frame as the route's response; no body means no frame. */
export function reply(frame: ServerFrame | undefined): RouteResult {
  return frame === undefined
    ? { statusCode: 200 }
    : { statusCode: 200, body: stringifyJson(frame) };
}
