import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebSocketEvent } from '../../lambdas/handlers/websocket-event.js';
import { routeEvent } from '../support/events.js';

Object.assign(process.env, {
  TABLE_NAME: 'realtime-table',
  CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  MAX_CONNECTIONS_PER_USER: '2',
});

const ddb = mockClient(DynamoDBDocumentClient);
const api = mockClient(ApiGatewayManagementApiClient);
type Handler = (event: WebSocketEvent) => Promise<{ statusCode: number; body?: string }>;
let connect: Handler;
let disconnect: Handler;

beforeAll(async () => {
  connect = ((await import('../../lambdas/handlers/connect.js')) as { handler: Handler }).handler;
  disconnect = ((await import('../../lambdas/handlers/disconnect.js')) as { handler: Handler })
    .handler;
});

beforeEach(() => {
  ddb.reset();
  api.reset();
});

const future = () => Math.floor(Date.now() / 1000) + 3600;

describe('$connect', () => {
  it('records the connection under its user with a TTL past the 2-hour limit', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    const result = await connect(
      routeEvent('$connect', undefined, { connectionId: 'a1', name: 'Alice' }),
    );

    expect(result.statusCode).toBe(200);
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item).toMatchObject({
      pk: 'user#alice',
      sk: 'conn#a1',
      connectionId: 'a1',
      userId: 'alice',
      name: 'Alice',
    });
    expect(item?.expiresAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 2 * 3600);
  });

  it('refuses with 429 and records nothing when the user has MAX_CONNECTIONS_PER_USER open', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { userId: 'alice', connectionId: 'x1', name: 'alice', expiresAt: future() },
        { userId: 'alice', connectionId: 'x2', name: 'alice', expiresAt: future() },
      ],
    });

    const result = await connect(routeEvent('$connect', undefined, { connectionId: 'a3' }));

    expect(result.statusCode).toBe(429);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('does not count connections whose TTL has passed', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { userId: 'alice', connectionId: 'x1', name: 'alice', expiresAt: future() },
        { userId: 'alice', connectionId: 'x2', name: 'alice', expiresAt: 1000 },
      ],
    });

    const result = await connect(routeEvent('$connect', undefined, { connectionId: 'a3' }));

    expect(result.statusCode).toBe(200);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
  });
});

describe('$disconnect', () => {
  it('deletes the connection and leaves its rooms, and nothing else (the stream announces)', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { rooms: new Set(['lobby', 'ops']) } });
    ddb.on(UpdateCommand).resolves({ Attributes: { conns: new Set(['a1']) } });
    api.on(PostToConnectionCommand).resolves({});

    const result = await disconnect(routeEvent('$disconnect', undefined, { connectionId: 'a1' }));

    expect(result.statusCode).toBe(200);
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'user#alice', sk: 'conn#a1' },
      ReturnValues: 'ALL_OLD',
    });
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({
        Key: { pk: 'room#lobby', sk: 'member#alice' },
        UpdateExpression: 'DELETE conns :conn',
      }),
      expect.objectContaining({
        Key: { pk: 'room#ops', sk: 'member#alice' },
        UpdateExpression: 'DELETE conns :conn',
      }),
    ]);
    expect(ddb.commandCalls(QueryCommand)).toEqual([]);
    expect(api.calls()).toEqual([]);
  });

  it('succeeds when the connection record is already gone', async () => {
    ddb.on(DeleteCommand).resolves({});

    const result = await disconnect(routeEvent('$disconnect', undefined, { connectionId: 'zz' }));

    expect(result.statusCode).toBe(200);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(api.calls()).toHaveLength(0);
  });
});
