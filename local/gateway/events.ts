import { randomBytes, randomUUID } from 'node:crypto';

/** What API Gateway knows of a connection when it builds an event. */
export interface EventSource {
  readonly apiId: string;
  readonly stage: string;
  readonly domainName: string;
  readonly connectionId: string;
  /** Milliseconds since the epoch. */
  readonly connectedAt: number;
  readonly sourceIp: string;
  readonly userAgent?: string;
}

/** A handshake's request: its headers and query string. */
export interface Handshake {
  readonly headers: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

/** A connection id shaped like API Gateway's (11 random bytes in base64, like `L0SM9cOFvHcCIhw=`). */
export function newConnectionId(): string {
  return randomBytes(11).toString('base64');
}

/**
 * The REQUEST authorizer's event for `$connect`, as AWS documents it for
 * WebSocket APIs: headers, query string, and the method ARN of the route.
 */
export function authorizerEvent(source: EventSource, handshake: Handshake) {
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:us-east-1:000000000000:${source.apiId}/${source.stage}/$connect`,
    ...requestParts(handshake),
    stageVariables: {},
    requestContext: requestContext(source, '$connect', 'CONNECT'),
  };
}

/** The `$connect` integration's event, with the authorizer's context. */
export function connectEvent(source: EventSource, handshake: Handshake, authorizer?: object) {
  return {
    ...requestParts(handshake),
    requestContext: {
      ...requestContext(source, '$connect', 'CONNECT'),
      ...(authorizer === undefined ? {} : { authorizer }),
    },
    isBase64Encoded: false,
  };
}

/** A message route's event: the body and a `messageId`, no headers. */
export function messageEvent(
  source: EventSource,
  routeKey: string,
  body: string,
  authorizer?: object,
) {
  return {
    requestContext: {
      ...requestContext(source, routeKey, 'MESSAGE'),
      messageId: randomBytes(10).toString('base64'),
      ...(authorizer === undefined ? {} : { authorizer }),
    },
    body,
    isBase64Encoded: false,
  };
}

/** The `$disconnect` event, with the close code and reason. */
export function disconnectEvent(
  source: EventSource,
  status: { code: number; reason: string },
  authorizer?: object,
) {
  return {
    headers: { Host: source.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    multiValueHeaders: {
      Host: [source.domainName],
      'x-api-key': [''],
      'X-Forwarded-For': [''],
      'x-restapi': [''],
    },
    requestContext: {
      ...requestContext(source, '$disconnect', 'DISCONNECT'),
      disconnectStatusCode: status.code,
      disconnectReason: status.reason,
      ...(authorizer === undefined ? {} : { authorizer }),
    },
    isBase64Encoded: false,
  };
}

function requestParts(handshake: Handshake) {
  const query = [...handshake.query.keys()];
  return {
    headers: { ...handshake.headers },
    multiValueHeaders: Object.fromEntries(
      Object.entries(handshake.headers).map(([name, value]) => [name, [value]]),
    ),
    queryStringParameters:
      query.length === 0
        ? undefined
        : // API Gateway's v1-format events keep the last value of a repeated parameter.
          Object.fromEntries(
            query.map((name) => [name, handshake.query.getAll(name).at(-1) ?? '']),
          ),
    multiValueQueryStringParameters:
      query.length === 0
        ? undefined
        : Object.fromEntries(query.map((name) => [name, handshake.query.getAll(name)])),
  };
}

function requestContext(source: EventSource, routeKey: string, eventType: string) {
  const now = Date.now();
  return {
    routeKey,
    eventType,
    extendedRequestId: randomBytes(10).toString('base64'),
    requestTime: new Date(now).toUTCString(),
    messageDirection: 'IN',
    stage: source.stage,
    connectedAt: source.connectedAt,
    requestTimeEpoch: now,
    identity: {
      sourceIp: source.sourceIp,
      ...(source.userAgent === undefined ? {} : { userAgent: source.userAgent }),
    },
    requestId: randomUUID(),
    domainName: source.domainName,
    connectionId: source.connectionId,
    apiId: source.apiId,
  };
}
