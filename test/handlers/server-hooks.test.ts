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
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// Imported, and so evaluated, before any test installs hooks: as in the entry
// the construct generates, whose `installHooks` runs after the handler module.
import { handler as connectHandler } from '../../lambdas/handlers/connect.js';
import { handler as disconnectHandler } from '../../lambdas/handlers/disconnect.js';
import { handler as joinHandler } from '../../lambdas/handlers/join.js';
import { handler as sendHandler } from '../../lambdas/handlers/send.js';
import type { WebSocketEvent } from '../../lambdas/handlers/websocket-event.js';
import { installHooks } from '../../lambdas/hooks/registry.js';
import { INTERNAL_MESSAGE } from '../../lambdas/shared/errors.js';
import { routeEvent } from '../support/events.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

// The handler modules build their services at import, as in Lambda.
vi.hoisted(() => {
  Object.assign(process.env, {
    TABLE_NAME: 'realtime-table',
    CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // Small, so that a hook that never answers is given up on quickly.
    HOOK_TIMEOUT_MS: '50',
  });
});

/** Message content no log line may carry. */
const CONTENT = 'the-message-content-51c9';

const ddb = mockClient(DynamoDBDocumentClient);
const api = mockClient(ApiGatewayManagementApiClient);
let output: CapturedOutput;

beforeEach(() => {
  ddb.reset();
  api.reset();
  api.on(PostToConnectionCommand).resolves({});
  output = captureOutput();
});

afterEach(() => {
  output.restore();
  installHooks({});
});

type Handler = (event: WebSocketEvent) => Promise<{ statusCode: number; body?: string }>;

async function call(handler: Handler, frame: { action: string; [field: string]: unknown }) {
  const result = await handler(
    routeEvent(frame.action, JSON.stringify(frame), { name: 'Alice', rooms: ['lobby'] }),
  );
  return result.body === undefined ? undefined : JSON.parse(result.body);
}

/** alice's a1 is admitted and in `lobby`, whose next seq is 3 and whose only member she is. */
function aliceInLobby() {
  ddb
    .on(UpdateCommand, { Key: { pk: 'user#alice', sk: 'conn#a1' } })
    .resolves({ Attributes: { rooms: new Set(['lobby']), tat: Date.now() } });
  ddb
    .on(UpdateCommand, { Key: { pk: 'room#lobby', sk: 'member' } })
    .resolves({ Attributes: { seq: 3 } });
  ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'room#lobby' } }).resolves({
    Items: [
      { sk: 'member', seq: 2 },
      {
        sk: 'member#alice',
        userId: 'alice',
        name: 'Alice',
        conns: new Set(['a1']),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      },
    ],
  });
}

/** What the send stored and posted: nothing when it was refused. */
function effects() {
  return {
    seqs: ddb.commandCalls(UpdateCommand, { Key: { pk: 'room#lobby', sk: 'member' } }).length,
    stored: ddb
      .commandCalls(PutCommand)
      .map((c) => JSON.parse(String(c.args[0].input.Item?.frame)).data),
    posted: api
      .commandCalls(PostToConnectionCommand)
      .map((c) => JSON.parse(String(c.args[0].input.Data)).data),
  };
}

describe('handlers with server hooks', () => {
  it('use the hooks installed after their module was evaluated', async () => {
    aliceInLobby();
    const sendFrame = { action: 'send', id: 's', room: 'lobby', data: CONTENT };
    await call(sendHandler, sendFrame);
    expect(effects().stored).toEqual([CONTENT]);
    ddb.resetHistory();
    api.resetHistory();

    installHooks({ beforeSend: ({ data }) => ({ data: { text: data, checked: true } }) });
    const frame = await call(sendHandler, sendFrame);

    expect(frame).toEqual({ type: 'ack', id: 's', room: 'lobby', seq: 3 });
    const replaced = { text: CONTENT, checked: true };
    expect(effects()).toEqual({ seqs: 1, stored: [replaced], posted: [replaced] });
  });

  it('answer a join authorizeJoin refuses with forbidden, adding no room', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { rooms: new Set(), tat: Date.now() } });
    const authorizeJoin = vi.fn(() => false);
    installHooks({ authorizeJoin });

    const frame = await call(joinHandler, { action: 'join', id: 'j', room: 'lobby' });

    expect(frame).toEqual({
      type: 'error',
      id: 'j',
      code: 'forbidden',
      message: expect.any(String),
    });
    expect(authorizeJoin).toHaveBeenCalledWith({
      user: { id: 'alice', name: 'Alice', rooms: ['lobby'] },
      room: 'lobby',
    });
    // The admission alone, counting the request without adding the room.
    const writes = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.UpdateExpression).not.toContain('#rooms');
    expect(ddb.commandCalls(QueryCommand)).toEqual([]);
  });

  it("answer a send beforeSend rejects with forbidden and the hook's reason, storing nothing", async () => {
    aliceInLobby();
    installHooks({ beforeSend: () => ({ reject: 'Links are not allowed here.' }) });

    const frame = await call(sendHandler, { action: 'send', id: 's', room: 'lobby', data: 1 });

    expect(frame).toEqual({
      type: 'error',
      id: 's',
      code: 'forbidden',
      message: 'Links are not allowed here.',
    });
    expect(effects()).toEqual({ seqs: 0, stored: [], posted: [] });
  });

  it('answer internal without detail when a hook throws, logging the failure by the hook name', async () => {
    aliceInLobby();
    installHooks({
      beforeSend: () => {
        throw new Error('moderation service unreachable');
      },
    });

    const frame = await call(sendHandler, {
      action: 'send',
      id: 's',
      room: 'lobby',
      data: CONTENT,
    });

    expect(frame).toEqual({ type: 'error', id: 's', code: 'internal', message: INTERNAL_MESSAGE });
    expect(effects()).toEqual({ seqs: 0, stored: [], posted: [] });
    const failure = output.logs().find((line) => line.message === 'request failed');
    expect(failure).toMatchObject({ level: 'ERROR', route: 'send' });
    expect(String(failure?.error)).toContain('The beforeSend hook threw');
    expect(String(failure?.error)).toContain('moderation service unreachable');
    expect(output.lines.join('\n')).not.toContain(CONTENT);
  });

  it('answer internal when a hook overruns HOOK_TIMEOUT_MS, storing nothing', async () => {
    aliceInLobby();
    installHooks({ beforeSend: () => new Promise(() => {}) });

    const frame = await call(sendHandler, { action: 'send', id: 's', room: 'lobby', data: 1 });

    expect(frame).toEqual({ type: 'error', id: 's', code: 'internal', message: INTERNAL_MESSAGE });
    expect(effects()).toEqual({ seqs: 0, stored: [], posted: [] });
    const failure = output.logs().find((line) => line.message === 'request failed');
    expect(String(failure?.error)).toContain('The beforeSend hook did not answer within 50 ms');
  });

  it('answer a replacement over MAX_DATA_BYTES with too_large, storing nothing', async () => {
    aliceInLobby();
    installHooks({ beforeSend: () => ({ data: 'x'.repeat(16_384) }) });

    const frame = await call(sendHandler, { action: 'send', id: 's', room: 'lobby', data: 1 });

    expect(frame).toMatchObject({ type: 'error', id: 's', code: 'too_large' });
    expect(effects()).toEqual({ seqs: 0, stored: [], posted: [] });
  });

  it('accept a connection whose onConnect throws, after storing it, and log a warning naming the hook', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    const onConnect = vi.fn(() => {
      throw new Error('audit log down');
    });
    installHooks({ onConnect });

    const result = await connectHandler(
      routeEvent('$connect', undefined, { connectionId: 'a1', name: 'Alice', rooms: ['lobby'] }),
    );

    expect(result.statusCode).toBe(200);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    expect(onConnect).toHaveBeenCalledWith({
      user: { id: 'alice', name: 'Alice', rooms: ['lobby'] },
      connectionId: 'a1',
    });
    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'onConnect hook failed',
        hook: 'onConnect',
        route: '$connect',
        error: expect.stringContaining('audit log down'),
      }),
    );
  });

  it('finish a disconnect whose onDisconnect throws and log a warning naming the hook', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { rooms: new Set(['lobby']) } });
    ddb.on(UpdateCommand).resolves({ Attributes: {} });
    installHooks({ onDisconnect: () => Promise.reject(new Error('audit log down')) });

    const result = await disconnectHandler(routeEvent('$disconnect', undefined));

    expect(result.statusCode).toBe(200);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(output.logs()).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'onDisconnect hook failed',
        hook: 'onDisconnect',
        route: '$disconnect',
      }),
    );
  });
});
