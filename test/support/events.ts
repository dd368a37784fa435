import type { WebSocketEvent } from '../../lambdas/handlers/websocket-event.js';

/** Seconds since the epoch, an hour from now: a token that has not expired. */
export const IN_AN_HOUR = () => Math.floor(Date.now() / 1000) + 3600;

export interface EventOptions {
  readonly connectionId?: string;
  readonly sub?: string;
  readonly name?: string;
  readonly rooms?: string[] | null;
  readonly exp?: number;
}

/**
 * A message-route event as API Gateway delivers it to a Lambda proxy
 * integration: no headers, a `messageId`, and the `$connect` authorizer's
 * context, whose values arrive as strings.
 */
export function routeEvent(
  routeKey: string,
  body: string | undefined,
  options: EventOptions = {},
): WebSocketEvent {
  const sub = options.sub ?? 'alice';
  const exp = options.exp ?? IN_AN_HOUR();
  const eventType =
    routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  return {
    requestContext: {
      routeKey,
      messageId: eventType === 'MESSAGE' ? 'bXNnLWlk' : undefined,
      eventType,
      extendedRequestId: 'ext-1',
      requestTime: '22/Nov/2026:12:00:00 +0000',
      messageDirection: 'IN',
      stage: 'prod',
      connectedAt: Date.now() - 1000,
      requestTimeEpoch: Date.now(),
      requestId: 'req-1',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      connectionId: options.connectionId ?? 'a1',
      apiId: 'abc123',
      authorizer: {
        principalId: sub,
        sub,
        name: options.name ?? sub,
        rooms:
          options.rooms === undefined || options.rooms === null
            ? ''
            : JSON.stringify(options.rooms),
        exp: String(exp),
      },
    },
    body,
    isBase64Encoded: false,
  } as unknown as WebSocketEvent;
}
