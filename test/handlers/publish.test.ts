import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PublishResult } from '../../protocol/publish.js';

Object.assign(process.env, {
  TABLE_NAME: 'realtime-table',
  CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  MAX_DATA_BYTES: '64',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});

const ddb = mockClient(DynamoDBDocumentClient);
const api = mockClient(ApiGatewayManagementApiClient);

type Handler = (payload: unknown) => Promise<PublishResult>;
let handler: Handler;

beforeAll(async () => {
  // Imported after the environment is set: the handler reads it at module scope, as in Lambda.
  ({ handler } = (await import('../../lambdas/handlers/publish.js')) as { handler: Handler });
});

const future = () => Math.floor(Date.now() / 1000) + 3600;

beforeEach(() => {
  ddb.reset();
  api.reset();
  ddb.on(UpdateCommand).resolves({ Attributes: { seq: 7 } });
  ddb.on(PutCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  api.on(PostToConnectionCommand).resolves({});
});

function posted(connectionId: string) {
  return api
    .commandCalls(PostToConnectionCommand, { ConnectionId: connectionId })
    .map((call) => JSON.parse(String(call.args[0].input.Data)));
}

describe('the publish handler', () => {
  it.each([
    ['a payload that is not an object', 'hello'],
    ['no target', { data: 1 }],
    ['both targets', { room: 'lobby', user: 'alice', data: 1 }],
    ['a bad room name', { room: 'no spaces', data: 1 }],
    ['an unknown field', { room: 'lobby', data: 1, action: 'send' }],
  ])('answers %s with a bad_request result, calling nothing', async (_, payload) => {
    await expect(handler(payload)).resolves.toEqual({
      ok: false,
      error: { code: 'bad_request', message: expect.any(String) },
    });
    expect(ddb.calls()).toHaveLength(0);
    expect(api.calls()).toHaveLength(0);
  });

  it('answers data over MAX_DATA_BYTES with a too_large result, calling nothing', async () => {
    await expect(handler({ room: 'lobby', data: 'x'.repeat(63) })).resolves.toEqual({
      ok: false,
      error: { code: 'too_large', message: 'data is 65 bytes; the limit is 64.' },
    });
    expect(ddb.calls()).toHaveLength(0);
    expect(api.calls()).toHaveLength(0);
  });

  it('stores a room publish with the next seq, then posts it to every member connection', async () => {
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'room#lobby' } }).resolves({
      Items: [
        { sk: 'member', seq: 6 },
        {
          sk: 'member#alice',
          userId: 'alice',
          name: 'Alice',
          conns: new Set(['a1', 'a2']),
          expiresAt: future(),
        },
      ],
    });

    const result = await handler({ room: 'lobby', data: { text: 'deployed' } });

    expect(result).toEqual({ ok: true, room: 'lobby', seq: 7, delivered: 2 });
    const stored = ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
    expect(stored).toEqual([
      expect.objectContaining({ pk: 'room#lobby', sk: 'msg#0000000000000007' }),
    ]);
    const frame = JSON.parse(String(stored[0]?.frame));
    expect(frame).toMatchObject({
      type: 'message',
      room: 'lobby',
      seq: 7,
      from: { userId: 'system', name: 'System' },
      data: { text: 'deployed' },
    });
    expect(posted('a1')).toEqual([frame]);
    expect(posted('a2')).toEqual([frame]);
  });

  it('posts a user publish to every open connection of the user, storing nothing', async () => {
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'user#alice' } }).resolves({
      Items: [
        { userId: 'alice', connectionId: 'a1', name: 'Alice', expiresAt: future() },
        { userId: 'alice', connectionId: 'a2', name: 'Alice', expiresAt: future() },
      ],
    });
    const from = { userId: 'billing', name: 'Billing' };

    const result = await handler({ user: 'alice', data: 'invoice ready', from });

    expect(result).toEqual({ ok: true, delivered: 2 });
    expect(posted('a1')).toEqual([
      { type: 'direct', from, data: 'invoice ready', ts: expect.any(Number) },
    ]);
    expect(posted('a2')).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('throws when the table fails, so Lambda reports a function error and retries async callers', async () => {
    ddb.on(UpdateCommand).rejects(new Error('DynamoDB is unavailable'));

    await expect(handler({ room: 'lobby', data: 1 })).rejects.toThrow('DynamoDB is unavailable');
    expect(api.calls()).toHaveLength(0);
  });
});
