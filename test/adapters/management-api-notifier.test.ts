import {
  ApiGatewayManagementApiClient,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManagementApiNotifier } from '../../lambdas/adapters/management-api-notifier.js';
import type { RetryPolicy } from '../../lambdas/adapters/retry.js';

const client = new ApiGatewayManagementApiClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  endpoint: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
});
const api = mockClient(client);

const PAYLOAD = JSON.stringify({ type: 'message', room: 'lobby', seq: 1, data: 'hi' });

let delays: number[];
let policy: RetryPolicy;

const postCalls = () => api.commandCalls(PostToConnectionCommand);
const throttled = () =>
  new LimitExceededException({ message: 'slow down', $metadata: { httpStatusCode: 429 } });
const gone = () => new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } });
const serverError = () =>
  Object.assign(new Error('internal'), {
    name: 'InternalServerError',
    $metadata: { httpStatusCode: 500 },
  });

beforeEach(() => {
  api.reset();
  delays = [];
  policy = {
    attempts: 4,
    baseDelayMs: 50,
    maxDelayMs: 800,
    random: () => 0.5,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
});

describe('ManagementApiNotifier', () => {
  it('posts the payload to the connection and reports it delivered', async () => {
    api.on(PostToConnectionCommand).resolves({});
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('delivered');
    expect(postCalls().map((call) => call.args[0].input)).toEqual([
      { ConnectionId: 'conn-1=', Data: PAYLOAD },
    ]);
    expect(notifier.retries).toBe(0);
  });

  it('reports a gone connection without retrying', async () => {
    api.on(PostToConnectionCommand).rejects(gone());
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('gone');
    expect(postCalls()).toHaveLength(1);
    expect(notifier.retries).toBe(0);
    expect(delays).toEqual([]);
  });

  it('reports gone for any error whose HTTP status is 410', async () => {
    api.on(PostToConnectionCommand).rejects(
      Object.assign(new Error('no such connection'), {
        name: 'UnknownError',
        $metadata: { httpStatusCode: 410 },
      }),
    );
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('gone');
    expect(postCalls()).toHaveLength(1);
    expect(notifier.retries).toBe(0);
  });

  it('reports gone for an error named GoneException that is not the SDK class', async () => {
    api
      .on(PostToConnectionCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'GoneException' }));
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('gone');
    expect(postCalls()).toHaveLength(1);
  });

  it('retries a throttled post and reports it delivered', async () => {
    api.on(PostToConnectionCommand).rejectsOnce(throttled()).resolves({});
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('delivered');
    expect(postCalls().map((call) => call.args[0].input)).toEqual([
      { ConnectionId: 'conn-1=', Data: PAYLOAD },
      { ConnectionId: 'conn-1=', Data: PAYLOAD },
    ]);
    expect(notifier.retries).toBe(1);
    expect(delays).toEqual([25]);
  });

  it('retries a post that failed with a server error', async () => {
    api.on(PostToConnectionCommand).rejectsOnce(serverError()).resolves({});
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('delivered');
    expect(postCalls()).toHaveLength(2);
    expect(notifier.retries).toBe(1);
  });

  it.each([
    [
      'a reset keep-alive socket',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ],
    ['a broken pipe', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })],
    ['a request timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('retries a post that failed with %s before any answer', async (_, failure) => {
    api.on(PostToConnectionCommand).rejectsOnce(failure).resolves({});
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('delivered');
    expect(postCalls()).toHaveLength(2);
  });

  it('retries a post answered with HTTP 429 under another name', async () => {
    api
      .on(PostToConnectionCommand)
      .rejectsOnce(
        Object.assign(new Error('too many'), {
          name: 'TooManyRequestsException',
          $metadata: { httpStatusCode: 429 },
        }),
      )
      .resolves({});
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('delivered');
    expect(postCalls()).toHaveLength(2);
  });

  it('reports gone when the connection disappears while the post is being retried', async () => {
    api.on(PostToConnectionCommand).rejectsOnce(throttled()).rejects(gone());
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).resolves.toBe('gone');
    expect(postCalls()).toHaveLength(2);
    expect(notifier.retries).toBe(1);
  });

  it("gives up after the policy's attempts and throws the last error", async () => {
    const last = throttled();
    api
      .on(PostToConnectionCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(serverError())
      .rejectsOnce(throttled())
      .rejects(last);
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).rejects.toBe(last);
    expect(postCalls()).toHaveLength(4);
    expect(notifier.retries).toBe(3);
    expect(delays).toEqual([25, 50, 100]);
  });

  it('counts retries across posts on one instance', async () => {
    api
      .on(PostToConnectionCommand)
      .rejectsOnce(throttled())
      .resolvesOnce({})
      .rejectsOnce(throttled())
      .resolves({});
    const notifier = new ManagementApiNotifier(client, policy);

    await notifier.post('conn-1=', PAYLOAD);
    await notifier.post('conn-2=', PAYLOAD);

    expect(notifier.retries).toBe(2);
    expect(postCalls().map((call) => call.args[0].input.ConnectionId)).toEqual([
      'conn-1=',
      'conn-1=',
      'conn-2=',
      'conn-2=',
    ]);
  });

  it('does not retry a forbidden post and throws its error', async () => {
    const forbidden = new ForbiddenException({
      message: 'forbidden',
      $metadata: { httpStatusCode: 403 },
    });
    api.on(PostToConnectionCommand).rejects(forbidden);
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.post('conn-1=', PAYLOAD)).rejects.toBe(forbidden);
    expect(postCalls()).toHaveLength(1);
    expect(notifier.retries).toBe(0);
    expect(delays).toEqual([]);
  });
});

describe('ManagementApiNotifier.probe', () => {
  it('asks GetConnection and answers live for an open connection, posting nothing', async () => {
    api.on(GetConnectionCommand).resolves({ ConnectedAt: new Date() });
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.probe('conn-1=')).resolves.toBe('live');
    expect(api.commandCalls(GetConnectionCommand)[0]?.args[0].input).toEqual({
      ConnectionId: 'conn-1=',
    });
    expect(postCalls()).toHaveLength(0);
  });

  it('answers gone for 410 and retries throttling first', async () => {
    api.on(GetConnectionCommand).rejectsOnce(throttled()).rejects(gone());
    const notifier = new ManagementApiNotifier(client, policy);

    await expect(notifier.probe('conn-1=')).resolves.toBe('gone');
    expect(api.commandCalls(GetConnectionCommand)).toHaveLength(2);
    expect(notifier.retries).toBe(1);
  });
});
