import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaPruneQueue } from '../../lambdas/adapters/lambda-prune-queue.js';
import { PRUNES_PER_INVOCATION } from '../../lambdas/domain/pruning.js';

const lambda = mockClient(LambdaClient);
const gone = (index: number) => ({
  connectionId: `c${index}`,
  userId: `u${index}`,
  name: `U${index}`,
  room: 'lobby',
});
const payloads = () =>
  lambda
    .commandCalls(InvokeCommand)
    .map((call) => JSON.parse(String(call.args[0].input.Payload)) as { gone: unknown[] });

describe('the prune queue', () => {
  let queue: LambdaPruneQueue;
  beforeEach(() => {
    lambda.reset();
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    queue = new LambdaPruneQueue(new LambdaClient({ region: 'us-east-1' }), 'prune-fn');
  });

  it('invokes the prune function asynchronously, in lots of at most the per-invocation bound', async () => {
    await queue.enqueue(Array.from({ length: PRUNES_PER_INVOCATION * 2 + 1 }, (_, i) => gone(i)));

    const calls = lambda.commandCalls(InvokeCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.FunctionName, input.InvocationType])).toEqual([
      ['prune-fn', 'Event'],
      ['prune-fn', 'Event'],
      ['prune-fn', 'Event'],
    ]);
    expect(payloads().map((work) => work.gone.length)).toEqual([
      PRUNES_PER_INVOCATION,
      PRUNES_PER_INVOCATION,
      1,
    ]);
    expect(payloads()[0]?.gone[0]).toEqual(gone(0));
  });

  it('invokes nothing for nothing', async () => {
    await queue.enqueue([]);
    expect(lambda.calls()).toEqual([]);
  });

  it('rejects when Lambda refuses, and hands the same connections over again next time', async () => {
    lambda.on(InvokeCommand).rejectsOnce(new Error('TooManyRequestsException'));

    await expect(queue.enqueue([gone(1)])).rejects.toThrow('TooManyRequests');
    await queue.enqueue([gone(1)]);

    expect(payloads()).toHaveLength(2);
  });
});
