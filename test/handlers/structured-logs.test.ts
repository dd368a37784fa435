import { readFileSync } from 'node:fs';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsLog } from '../../lambdas/adapters/powertools-log.js';
import { PowertoolsMetrics } from '../../lambdas/adapters/powertools-metrics.js';
import { createAuth } from '../../lambdas/domain/requests/auth.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { handler as authorizerHandler } from '../../lambdas/handlers/authorizer.js';
import { createConnectHandler } from '../../lambdas/handlers/connect.js';
import { createDisconnectHandler } from '../../lambdas/handlers/disconnect.js';
import type { HandlerContext } from '../../lambdas/handlers/invocation.js';
import { createMessageHandler } from '../../lambdas/handlers/message-handler.js';
import type { WebSocketEvent } from '../../lambdas/handlers/websocket-event.js';
import { sign } from '../auth/tokens.js';
import { routeEvent } from '../support/events.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

// The handler modules build their clients at import, as in Lambda.
vi.hoisted(() => {
  Object.assign(process.env, {
    TABLE_NAME: 'realtime-table',
    CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
    AWS_REGION: 'us-east-1',
  });
});

const SECRET = 'structured-logs-test-secret-of-32-bytes-or-more';
/** Message content no line may ever carry. */
const CONTENT = 'the-message-content-7f3a';

let output: CapturedOutput;
let world: ReturnType<typeof fakeServices>;

beforeEach(() => {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'realtime-test');
  vi.stubEnv('JWT_SECRET', SECRET);
  world = fakeServices();
  output = captureOutput();
});

afterEach(() => {
  output.restore();
  vi.unstubAllEnvs();
});

/** Services that count, so EMF lines are written too and must not disturb the logs. */
const counting = () => ({ ...world.services, metrics: new PowertoolsMetrics() });

function lambdaContext(awsRequestId: string): HandlerContext {
  return {
    awsRequestId,
    functionName: 'realtime-send',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:realtime-send',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 10_000,
  };
}

function withRequestId(event: WebSocketEvent, requestId: string): WebSocketEvent {
  return { ...event, requestContext: { ...event.requestContext, requestId } };
}

async function lobbyOf(...users: Array<[string, string]>) {
  for (const [userId, connectionId] of users) {
    const caller = await connect(world, callerOf(userId, connectionId));
    await join(world.services, caller, { action: 'join', room: 'lobby' });
  }
}

const sendFrame = (room = 'lobby') => JSON.stringify({ action: 'send', room, data: CONTENT });

describe('structured logs', () => {
  it('put the connection id, route, both request ids and the user id on every line of an invocation', async () => {
    await lobbyOf(['alice', 'a1'], ['bob', 'b1']);
    world.rooms.put = () => Promise.reject(new Error('DynamoDB unavailable'));
    const handle = createMessageHandler('send', send, counting());

    await handle(
      withRequestId(routeEvent('send', sendFrame(), { connectionId: 'a1' }), 'api-1'),
      lambdaContext('lambda-1'),
    );

    const logs = output.logs();
    expect(logs.map((line) => [line.level, line.message])).toEqual([
      ['ERROR', 'request failed'],
      ['DEBUG', 'request refused'],
    ]);
    for (const line of logs) {
      expect(line).toMatchObject({
        service: 'realtime-test',
        route: 'send',
        connectionId: 'a1',
        requestId: 'api-1',
        function_request_id: 'lambda-1',
        userId: 'alice',
      });
    }
  });

  it('put the same keys on the lines of $connect and $disconnect', async () => {
    const services = counting();
    const connectHandler = createConnectHandler(services, new PowertoolsLog());
    const disconnectHandler = createDisconnectHandler(services, new PowertoolsLog());

    await connectHandler(
      withRequestId(routeEvent('$connect', undefined, { connectionId: 'c9' }), 'api-c'),
      lambdaContext('lambda-c'),
    );
    await disconnectHandler(
      withRequestId(routeEvent('$disconnect', undefined, { connectionId: 'c9' }), 'api-d'),
      lambdaContext('lambda-d'),
    );

    expect(output.logs()).toEqual([
      expect.objectContaining({
        message: 'connection opened',
        route: '$connect',
        connectionId: 'c9',
        requestId: 'api-c',
        function_request_id: 'lambda-c',
        userId: 'alice',
      }),
      expect.objectContaining({
        message: 'connection closed',
        route: '$disconnect',
        connectionId: 'c9',
        requestId: 'api-d',
        function_request_id: 'lambda-d',
        userId: 'alice',
      }),
    ]);
  });

  it('do not carry one invocation’s user, connection or request id into the next', async () => {
    await lobbyOf(['alice', 'a1']);
    const handle = createMessageHandler('send', send, counting());
    await handle(
      withRequestId(routeEvent('send', sendFrame(), { connectionId: 'a1' }), 'api-1'),
      lambdaContext('lambda-1'),
    );
    const second = routeEvent('send', sendFrame(), { connectionId: 'x2' });
    const anonymous = {
      ...second,
      requestContext: { ...second.requestContext, requestId: 'api-2', authorizer: undefined },
    } as WebSocketEvent;

    await handle(anonymous);

    const lines = output.logs();
    const secondLines = lines.slice(lines.findIndex((line) => line.requestId === 'api-2'));
    expect(secondLines.map((line) => line.message)).toEqual([
      'missing authorizer context',
      'request refused',
    ]);
    for (const line of secondLines) {
      expect(line).toMatchObject({ route: 'send', connectionId: 'x2', requestId: 'api-2' });
      expect(line).not.toHaveProperty('userId');
      expect(line).not.toHaveProperty('function_request_id');
      expect(JSON.stringify(line)).not.toContain('alice');
    }
  });

  it('write per-request lines only at DEBUG, so the default INFO level writes none for a send', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', undefined);
    await lobbyOf(['alice', 'a1']);
    const handle = createMessageHandler('send', send, counting(), new PowertoolsLog());

    await handle(routeEvent('send', sendFrame(), { connectionId: 'a1' }), lambdaContext('l-1'));

    expect(output.logs()).toEqual([]);
    expect(output.metrics()).toHaveLength(1);
  });

  it('never write the message content, whether the send succeeds or fails', async () => {
    await lobbyOf(['alice', 'a1'], ['bob', 'b1']);
    const handle = createMessageHandler('send', send, counting());
    await handle(routeEvent('send', sendFrame(), { connectionId: 'a1' }), lambdaContext('l-1'));
    world.rooms.put = () => Promise.reject(new Error('ValidationException'));
    await handle(routeEvent('send', sendFrame(), { connectionId: 'a1' }), lambdaContext('l-2'));
    await handle(routeEvent('send', sendFrame('elsewhere'), { connectionId: 'a1' }));

    expect(output.logs().map((line) => line.message)).toEqual([
      'request answered',
      'request failed',
      'request refused',
      'request refused',
    ]);
    expect(output.lines.filter((line) => line.includes(CONTENT))).toEqual([]);
  });
});

describe('structured logs of tokens', () => {
  it('never write the token of an auth request, even when an error quotes it', async () => {
    const token = await sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 }, key(), {
      alg: 'HS256',
    });
    await connect(world, callerOf('alice', 'a1'));
    const handle = createMessageHandler(
      'auth',
      createAuth({
        verify: (given) => Promise.reject(new Error(`JWKS fetch failed for\n${given}`)),
      }),
      counting(),
    );

    await handle(
      routeEvent('auth', JSON.stringify({ action: 'auth', token }), { connectionId: 'a1' }),
      lambdaContext('l-1'),
    );

    const logs = output.logs();
    expect(logs.map((line) => line.message)).toEqual(['request failed', 'request refused']);
    expect(logs[0]?.error).toContain('JWKS fetch failed for [token]');
    expect(output.lines.filter((line) => line.includes(token))).toEqual([]);
  });

  it('never write the token the authorizer refuses, and name the connection it refused', async () => {
    const token = await sign(
      { sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 },
      key('x'),
      {
        alg: 'HS256',
      },
    );

    await expect(
      authorizerHandler(authorizerEvent(token), lambdaContext('lambda-auth')),
    ).rejects.toThrow('Unauthorized');

    const logs = output.logs();
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'WARN',
        route: '$connect',
        connectionId: 'CkQe5dAfDoECFpQ=',
        requestId: 'CkQe5FkPDoEFjNw=',
        function_request_id: 'lambda-auth',
      }),
    ]);
    expect(String(logs[0]?.message)).toContain('token_invalid');
    expect(output.lines.filter((line) => line.includes(token))).toEqual([]);
  });

  it('write nothing with the token when the authorizer allows it', async () => {
    const token = await sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 }, key(), {
      alg: 'HS256',
    });

    const result = await authorizerHandler(authorizerEvent(token), lambdaContext('lambda-auth'));

    expect(result.principalId).toBe('alice');
    expect(output.lines.filter((line) => line.includes(token))).toEqual([]);
  });
});

function key(suffix = ''): Uint8Array {
  return new TextEncoder().encode(SECRET + suffix);
}

function authorizerEvent(token: string): APIGatewayRequestAuthorizerEvent {
  const url = new URL('../fixtures/events/authorizer-request.json', import.meta.url);
  const event = JSON.parse(readFileSync(url, 'utf8')) as APIGatewayRequestAuthorizerEvent;
  return {
    ...event,
    queryStringParameters: { token },
    multiValueQueryStringParameters: { token: [token] },
  };
}
