import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPublisher, PublishError, PublishFunctionError } from '../../publish/index.js';

const FUNCTION = 'Realtime-PublishHandler-AbC123';
const lambda = mockClient(LambdaClient);
const client = new LambdaClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const publisher = createPublisher({ functionName: FUNCTION, client });

/** The function's answer as the SDK hands it over: the payload as bytes. */
function answer(body: unknown, functionError?: string): InvokeCommandOutput {
  return {
    $metadata: {},
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify(body)) as InvokeCommandOutput['Payload'],
    ...(functionError === undefined ? {} : { FunctionError: functionError }),
  };
}

/** The payload the function was invoked with. */
function sentPayload(): unknown {
  const [call] = lambda.commandCalls(InvokeCommand);
  return JSON.parse(new TextDecoder().decode(call?.args[0].input.Payload as Uint8Array));
}

beforeEach(() => {
  lambda.reset();
});

describe('createPublisher', () => {
  it('invokes the function synchronously with a room publish and resolves what it did', async () => {
    lambda.on(InvokeCommand).resolves(answer({ ok: true, room: 'lobby', seq: 12, delivered: 3 }));

    const result = await publisher.publishToRoom('lobby', { text: 'deployed' });

    expect(result).toEqual({ ok: true, room: 'lobby', seq: 12, delivered: 3 });
    expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: FUNCTION,
      InvocationType: 'RequestResponse',
    });
    expect(sentPayload()).toEqual({ room: 'lobby', data: { text: 'deployed' } });
  });

  it('sends a user publish with the sender it was given', async () => {
    lambda.on(InvokeCommand).resolves(answer({ ok: true, delivered: 2 }));
    const from = { userId: 'billing', name: 'Billing' };

    await expect(publisher.publishToUser('alice', 'invoice ready', from)).resolves.toEqual({
      ok: true,
      delivered: 2,
    });
    expect(sentPayload()).toEqual({ user: 'alice', data: 'invoice ready', from });
  });

  it('rejects a refused input with a PublishError carrying the protocol code', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(
        answer({ ok: false, error: { code: 'too_large', message: 'data is 20000 bytes.' } }),
      );

    const refusal = publisher.publishToRoom('lobby', 'x'.repeat(20_000));

    await expect(refusal).rejects.toBeInstanceOf(PublishError);
    await expect(refusal).rejects.toMatchObject({
      name: 'PublishError',
      code: 'too_large',
      message: 'data is 20000 bytes.',
    });
  });

  it('rejects a function error with a PublishFunctionError naming the error type', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(
        answer(
          { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 15.00 seconds' },
          'Unhandled',
        ),
      );

    const failure = publisher.publishToUser('alice', 1);

    await expect(failure).rejects.toBeInstanceOf(PublishFunctionError);
    await expect(failure).rejects.toMatchObject({
      code: 'internal',
      functionError: 'Unhandled',
      errorType: 'Sandbox.Timedout',
      message: expect.stringContaining('Task timed out after 15.00 seconds'),
    });
  });

  it('passes an invocation the SDK could not make on as the SDK error', async () => {
    const denied = Object.assign(new Error('not authorized to perform: lambda:InvokeFunction'), {
      name: 'AccessDeniedException',
    });
    lambda.on(InvokeCommand).rejects(denied);

    await expect(publisher.publishToRoom('lobby', 1)).rejects.toBe(denied);
  });
});
