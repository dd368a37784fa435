import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaDeliveryWorkers } from '../../lambdas/adapters/lambda-delivery-workers.js';
import type { Target } from '../../lambdas/domain/ports.js';

const client = new LambdaClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
const lambda = mockClient(client);
const workers = new LambdaDeliveryWorkers(client, 'Realtime-FanoutHandler', 500);

const TARGETS: Target[] = [
  { connectionId: 'c1', userId: 'u1', name: 'One' },
  { connectionId: 'c2', userId: 'u2', name: 'Two' },
];
const PAYLOAD = '{"type":"message","room":"big","seq":7,"data":1}';
/** An Invoke answer's payload: the bytes, with the SDK's blob adapter's one method. */
function answer(value: unknown) {
  const text = JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
}

beforeEach(() => {
  lambda.reset();
});

describe('LambdaDeliveryWorkers', () => {
  it('invokes the worker synchronously with the payload and targets, and returns its report', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: answer({ delivered: 1, failed: 0, gone: [TARGETS[1]] }),
    });

    const report = await workers.deliver(TARGETS, PAYLOAD);

    expect(report).toEqual({ delivered: 1, failed: 0, gone: [TARGETS[1]] });
    const [call] = lambda.commandCalls(InvokeCommand);
    expect(call?.args[0].input.FunctionName).toBe('Realtime-FanoutHandler');
    expect(call?.args[0].input.InvocationType).toBeUndefined();
    expect(JSON.parse(String(call?.args[0].input.Payload))).toEqual({
      payload: PAYLOAD,
      targets: TARGETS,
    });
  });

  it('counts every target failed when the worker ran and failed, so nobody gets it twice', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: answer({ errorType: 'Sandbox.Timedout', errorMessage: 'timed out' }),
    });

    expect(await workers.deliver(TARGETS, PAYLOAD)).toEqual({ delivered: 0, failed: 2, gone: [] });
  });

  it('rejects when Lambda refused the invocation, so the caller can post the share', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    await expect(workers.deliver(TARGETS, PAYLOAD)).rejects.toThrow('Rate exceeded');
  });

  it('rejects an answer that is not a delivery report', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: answer({ delivered: 'all' }) });

    await expect(workers.deliver(TARGETS, PAYLOAD)).rejects.toThrow('delivery report');
  });
});
