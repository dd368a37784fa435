import {
  ApiGatewayManagementApiClient,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { SignJWT } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebSocketEvent } from '../../lambdas/handlers/websocket-event.js';
import { routeEvent } from '../support/events.js';

const SECRET = 'handler-test-secret-at-least-32-bytes-long';
Object.assign(process.env, {
  TABLE_NAME: 'realtime-table',
  CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  JWT_SECRET: SECRET,
  MAX_DATA_BYTES: '64',
  PRUNE_FUNCTION_NAME: 'realtime-prune',
});

const ddb = mockClient(DynamoDBDocumentClient);
const api = mockClient(ApiGatewayManagementApiClient);
const lambda = mockClient(LambdaClient);

type Handler = (event: WebSocketEvent) => Promise<{ statusCode: number; body?: string }>;
const routes: Record<string, Handler> = {};
const ROUTES = ['join', 'leave', 'send', 'typing', 'direct', 'history', 'auth', 'ping', 'default'];

beforeAll(async () => {
  // Imported after the environment is set: handlers read it at module scope, as in Lambda.
  for (const name of ROUTES) {
    routes[name] = (
      (await import(`../../lambdas/handlers/${name}.ts`)) as { handler: Handler }
    ).handler;
  }
});

beforeEach(() => {
  ddb.reset();
  api.reset();
  lambda.reset();
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  ddb.on(UpdateCommand).resolves({ Attributes: {} });
  ddb.on(QueryCommand).resolves({ Items: [] });
  api.on(PostToConnectionCommand).resolves({});
});

const future = () => Math.floor(Date.now() / 1000) + 3600;
const connKey = (user: string, conn: string) => ({ pk: `user#${user}`, sk: `conn#${conn}` });

async function call(route: string, frame: unknown, options = {}) {
  const handler = routes[route] as Handler;
  const body = typeof frame === 'string' ? frame : JSON.stringify(frame);
  const result = await handler(routeEvent(route === 'default' ? '$default' : route, body, options));
  return {
    statusCode: result.statusCode,
    frame: result.body === undefined ? undefined : JSON.parse(result.body),
  };
}

function admitted(user: string, conn: string, rooms: string[]) {
  ddb
    .on(UpdateCommand, { Key: connKey(user, conn) })
    .resolves({ Attributes: { rooms: new Set(rooms), tat: Date.now() } });
}

function members(room: string, entries: Array<[string, string[]]>, seq = 0) {
  ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': `room#${room}` } }).resolves({
    Items: [
      { sk: 'member', seq },
      ...entries.map(([userId, conns]) => ({
        sk: `member#${userId}`,
        userId,
        name: userId,
        conns: new Set(conns),
        expiresAt: future(),
      })),
    ],
  });
}

function posted(connectionId: string) {
  return api
    .commandCalls(PostToConnectionCommand, { ConnectionId: connectionId })
    .map((c) => JSON.parse(String(c.args[0].input.Data)));
}

describe('malformed frames', () => {
  it.each(ROUTES.filter((r) => r !== 'default'))(
    'the %s route answers bad_request to invalid fields and writes nothing',
    async (route) => {
      const { frame } = await call(route, {
        action: route,
        id: 7,
        room: 'no spaces allowed',
        to: 5,
        token: 5,
        limit: 0,
      });

      expect(frame).toEqual({ type: 'error', code: 'bad_request', message: expect.any(String) });
      expect(ddb.calls()).toHaveLength(0);
      expect(api.calls()).toHaveLength(0);
    },
  );

  it('answers bad_request to a frame that is not JSON, writing nothing', async () => {
    const { frame } = await call('default', 'hello there');

    expect(frame).toEqual({ type: 'error', code: 'bad_request', message: expect.any(String) });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers unknown_action with the id to an action no route serves', async () => {
    const { frame } = await call('default', { action: 'shout', id: 'q' });

    expect(frame).toEqual({
      type: 'error',
      id: 'q',
      code: 'unknown_action',
      message: expect.any(String),
    });
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('join route', () => {
  it('admits, joins and replies with members and seq, posting nothing (the stream announces)', async () => {
    admitted('alice', 'a1', ['lobby']);
    members(
      'lobby',
      [
        ['alice', ['a1']],
        ['bob', ['b1']],
      ],
      4,
    );

    const { frame } = await call('join', { action: 'join', id: 'j', room: 'lobby' });

    expect(frame).toEqual({
      type: 'joined',
      id: 'j',
      room: 'lobby',
      members: [
        { userId: 'alice', name: 'alice' },
        { userId: 'bob', name: 'bob' },
      ],
      seq: 4,
    });
    expect(api.calls()).toEqual([]);
    const admission = ddb.commandCalls(UpdateCommand, { Key: connKey('alice', 'a1') })[0]?.args[0]
      .input;
    expect(admission?.UpdateExpression).toContain('ADD #rooms :room');
  });

  it('answers forbidden for a room outside the rooms claim and adds no membership', async () => {
    const { frame } = await call('join', { action: 'join', room: 'secret' }, { rooms: ['public'] });

    expect(frame).toMatchObject({ code: 'forbidden' });
    const writes = ddb.commandCalls(UpdateCommand);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.args[0].input.UpdateExpression).not.toContain('#rooms');
  });
});

describe('send route', () => {
  it('delivers to every live member and hands exactly the gone ones to the prune function', async () => {
    admitted('alice', 'a1', ['lobby']);
    ddb
      .on(UpdateCommand, { Key: { pk: 'room#lobby', sk: 'member' } })
      .resolves({ Attributes: { seq: 9 } });
    members('lobby', [
      ['alice', ['a1']],
      ['bob', ['b1']],
      ['carol', ['c1']],
      ['dave', ['d1', 'd2']],
    ]);
    const gone = new GoneException({ message: 'Gone', $metadata: { httpStatusCode: 410 } });
    api.on(PostToConnectionCommand, { ConnectionId: 'c1' }).rejects(gone);
    api.on(PostToConnectionCommand, { ConnectionId: 'd2' }).rejects(gone);
    ddb.on(DeleteCommand).resolves({ Attributes: { rooms: new Set(['lobby']) } });

    const calledAt = Date.now();
    const { frame } = await call('send', {
      action: 'send',
      id: 's',
      room: 'lobby',
      data: { t: 'hi' },
    });
    const answeredAt = Date.now();

    expect(frame).toEqual({ type: 'ack', id: 's', room: 'lobby', seq: 9 });
    for (const live of ['a1', 'b1', 'd1']) {
      expect(posted(live)[0]).toMatchObject({ type: 'message', seq: 9, data: { t: 'hi' } });
    }
    // Deleted by the prune function, invoked asynchronously: never by the request.
    expect(ddb.commandCalls(DeleteCommand)).toEqual([]);
    const invocations = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toMatchObject({
      FunctionName: 'realtime-prune',
      InvocationType: 'Event',
    });
    const work = JSON.parse(String(invocations[0]?.Payload)) as { gone: unknown[] };
    expect(work.gone).toEqual([
      // postedAt: when the posts began, which tells the prune a request sent since from a 410 of a handshake.
      {
        userId: 'carol',
        name: 'carol',
        connectionId: 'c1',
        room: 'lobby',
        postedAt: expect.any(Number),
      },
      {
        userId: 'dave',
        name: 'dave',
        connectionId: 'd2',
        room: 'lobby',
        postedAt: expect.any(Number),
      },
    ]);
    for (const { postedAt } of work.gone as { postedAt: number }[]) {
      expect(postedAt).toBeGreaterThanOrEqual(calledAt);
      expect(postedAt).toBeLessThanOrEqual(answeredAt);
    }
    const stored = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(stored).toMatchObject({ pk: 'room#lobby', sk: 'msg#0000000000000009' });
  });

  it('stores the message before the first post', async () => {
    admitted('alice', 'a1', ['lobby']);
    ddb
      .on(UpdateCommand, { Key: { pk: 'room#lobby', sk: 'member' } })
      .resolves({ Attributes: { seq: 1 } });
    members('lobby', [['alice', ['a1']]]);
    const order: string[] = [];
    ddb.on(PutCommand).callsFake(() => {
      order.push('put');
      return {};
    });
    api.on(PostToConnectionCommand).callsFake(() => {
      order.push('post');
      return {};
    });

    await call('send', { action: 'send', room: 'lobby', data: 1 });

    expect(order).toEqual(['put', 'post']);
  });

  it('retries a throttled post and delivers it', async () => {
    admitted('alice', 'a1', ['lobby']);
    ddb
      .on(UpdateCommand, { Key: { pk: 'room#lobby', sk: 'member' } })
      .resolves({ Attributes: { seq: 1 } });
    members('lobby', [
      ['alice', ['a1']],
      ['bob', ['b1']],
    ]);
    api
      .on(PostToConnectionCommand, { ConnectionId: 'b1' })
      .rejectsOnce(
        new LimitExceededException({ message: 'Slow down', $metadata: { httpStatusCode: 429 } }),
      )
      .resolves({});

    await call('send', { action: 'send', room: 'lobby', data: 1 });

    expect(api.commandCalls(PostToConnectionCommand, { ConnectionId: 'b1' })).toHaveLength(2);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('answers too_large and touches nothing', async () => {
    const { frame } = await call('send', {
      action: 'send',
      id: 'big',
      room: 'lobby',
      data: 'x'.repeat(100),
    });

    expect(frame).toMatchObject({ type: 'error', id: 'big', code: 'too_large' });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers not_member and takes no seq', async () => {
    admitted('alice', 'a1', ['elsewhere']);

    const { frame } = await call('send', { action: 'send', room: 'lobby', data: 1 });

    expect(frame).toMatchObject({ code: 'not_member' });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers rate_limited from the stored bucket and stores nothing', async () => {
    const failure = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: {
        pk: { S: 'user#alice' },
        expiresAt: { N: String(future()) },
        tat: { N: String((Date.now() + 60_000) * 1000) },
      },
    });
    ddb.on(UpdateCommand, { Key: connKey('alice', 'a1') }).rejects(failure);

    const { frame } = await call('send', { action: 'send', room: 'lobby', data: 1 });

    expect(frame).toMatchObject({ code: 'rate_limited' });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(api.calls()).toHaveLength(0);
  });

  it('answers token_expired once the token has expired without renewal', async () => {
    const failure = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: { pk: { S: 'user#alice' }, expiresAt: { N: String(future()) } },
    });
    ddb.on(UpdateCommand, { Key: connKey('alice', 'a1') }).rejects(failure);

    const { frame } = await call(
      'send',
      { action: 'send', room: 'lobby', data: 1 },
      { exp: Math.floor(Date.now() / 1000) - 120 },
    );

    expect(frame).toMatchObject({ code: 'token_expired' });
    const condition = ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression;
    expect(condition).toContain('renewedExp >= :minExp');
  });

  it('answers internal without details when the table fails', async () => {
    ddb.on(UpdateCommand).rejects(new Error('socket hang up at 10.0.0.1'));

    const { frame } = await call('send', { action: 'send', id: 'x', room: 'lobby', data: 1 });

    expect(frame).toEqual({
      type: 'error',
      id: 'x',
      code: 'internal',
      message: 'Something went wrong; try again.',
    });
  });
});

describe('other routes', () => {
  it('leave removes the membership and posts nothing (the stream announces)', async () => {
    admitted('alice', 'a1', []);
    ddb
      .on(UpdateCommand, { Key: { pk: 'room#lobby', sk: 'member#alice' } })
      .resolves({ Attributes: { conns: new Set(['a1']) } });
    members('lobby', [['bob', ['b1']]]);

    const { frame } = await call('leave', { action: 'leave', id: 'l', room: 'lobby' });

    expect(frame).toEqual({ type: 'left', id: 'l', room: 'lobby' });
    const removal = ddb.commandCalls(UpdateCommand, {
      Key: { pk: 'room#lobby', sk: 'member#alice' },
    });
    expect(removal[0]?.args[0].input.UpdateExpression).toBe('DELETE conns :conn');
    expect(api.calls()).toEqual([]);
  });

  it('typing reaches the other connections and replies nothing', async () => {
    admitted('alice', 'a1', ['lobby']);
    members('lobby', [
      ['alice', ['a1', 'a2']],
      ['bob', ['b1']],
    ]);

    const result = await call('typing', { action: 'typing', room: 'lobby' });

    expect(result).toEqual({ statusCode: 200, frame: undefined });
    expect(posted('a2')).toHaveLength(1);
    expect(posted('b1')).toHaveLength(1);
    expect(posted('a1')).toHaveLength(0);
  });

  it('direct reaches each open connection of the recipient and acks the count', async () => {
    admitted('alice', 'a1', []);
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'user#bob' } }).resolves({
      Items: [
        { userId: 'bob', connectionId: 'b1', name: 'bob', expiresAt: future() },
        { userId: 'bob', connectionId: 'b-old', name: 'bob', expiresAt: 1 },
      ],
    });

    const { frame } = await call('direct', { action: 'direct', id: 'd', to: 'bob', data: 'hey' });

    expect(frame).toEqual({ type: 'ack', id: 'd', delivered: 1 });
    expect(posted('b1')).toEqual([
      {
        type: 'direct',
        from: { userId: 'alice', name: 'alice' },
        data: 'hey',
        ts: expect.any(Number),
      },
    ]);
    expect(posted('b-old')).toEqual([]);
  });

  it('history returns stored frames after the given seq', async () => {
    admitted('alice', 'a1', ['lobby']);
    const message = (seq: number) => ({
      type: 'message',
      room: 'lobby',
      seq,
      from: { userId: 'bob', name: 'bob' },
      data: seq,
      ts: 1,
    });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'room#lobby' } }).resolves({
      Items: [2, 3].map((seq) => ({ frame: JSON.stringify(message(seq)), expiresAt: future() })),
    });

    const { frame } = await call('history', {
      action: 'history',
      id: 'h',
      room: 'lobby',
      after: 1,
      limit: 1,
    });

    expect(frame).toEqual({
      type: 'history',
      id: 'h',
      room: 'lobby',
      messages: [message(2)],
      hasMore: true,
    });
  });

  it('ping answers pong', async () => {
    admitted('alice', 'a1', []);

    const { frame } = await call('ping', { action: 'ping', id: 'p' });

    expect(frame).toEqual({ type: 'pong', id: 'p', ts: expect.any(Number) });
  });

  it('auth renews the expiry with a valid token for the same sub', async () => {
    const exp = Math.floor(Date.now() / 1000) + 7200;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(SECRET));
    admitted('alice', 'a1', []);

    const { frame } = await call(
      'auth',
      { action: 'auth', id: 'r', token },
      { exp: Math.floor(Date.now() / 1000) - 600 },
    );

    expect(frame).toEqual({ type: 'authed', id: 'r', exp });
    const write = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(write?.UpdateExpression).toContain('renewedExp = :renewExp');
    expect(write?.ExpressionAttributeValues?.[':renewExp']).toBe(exp);
  });

  it('auth answers forbidden for another sub and unauthorized for a bad token, renewing nothing', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    admitted('alice', 'a1', []);

    expect((await call('auth', { action: 'auth', token })).frame).toMatchObject({
      code: 'forbidden',
    });
    expect((await call('auth', { action: 'auth', token: `${token}x` })).frame).toMatchObject({
      code: 'unauthorized',
    });
    for (const write of ddb.commandCalls(UpdateCommand)) {
      expect(write.args[0].input.UpdateExpression).not.toContain('renewedExp');
    }
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});
