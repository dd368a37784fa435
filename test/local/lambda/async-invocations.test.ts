import { afterEach, describe, expect, it } from 'vitest';
import {
  type AsyncInvokeModel,
  DEFAULT_ASYNC_INVOKE,
} from '../../../local/assembly/event-sources.js';
import type { Invocation } from '../../../local/gateway/invoker.js';
import { AsyncInvocations } from '../../../local/lambda/async-invocations.js';
import { within } from '../support/wait.js';

const FAILED: Invocation = {
  ok: false,
  error: { kind: 'timeout', name: 'Sandbox.Timedout', message: 'Task timed out' },
};

let queues: AsyncInvocations[] = [];

/** A queue for one function, `Prune`, that answers each attempt with the next of `answers`. */
function queueFor(
  answers: Invocation[],
  asyncInvoke: AsyncInvokeModel = DEFAULT_ASYNC_INVOKE,
  retryDelaysMs: number[] = [20, 40],
) {
  const attempts: { event: unknown; at: number }[] = [];
  const logs: string[] = [];
  const queue = new AsyncInvocations({
    invoke: async (_, event) => {
      attempts.push({ event, at: Date.now() });
      return answers.shift() ?? { ok: true, result: null };
    },
    functionOf: (functionId) =>
      functionId === 'PruneFn'
        ? {
            name: 'Prune',
            arn: 'arn:aws:lambda:us-east-1:000000000000:function:PruneFn',
            asyncInvoke,
          }
        : undefined,
    log: (line) => logs.push(line),
    retryDelaysMs,
  });
  queues.push(queue);
  return { queue, attempts, logs };
}

const idle = (queue: AsyncInvocations) => within(queue.idle(), 3000, 'the queue to be idle');

afterEach(async () => {
  await Promise.all(queues.map((queue) => queue.stop()));
  queues = [];
});

describe('asynchronous invocations', () => {
  it('retries a failing event twice by default, waiting the retry delays, then discards it', async () => {
    const { queue, attempts, logs } = queueFor([FAILED, FAILED, FAILED]);

    queue.enqueue('PruneFn', { gone: ['c1'] });
    await idle(queue);

    expect(attempts.map((attempt) => attempt.event)).toEqual([
      { gone: ['c1'] },
      { gone: ['c1'] },
      { gone: ['c1'] },
    ]);
    const [first, second, third] = attempts.map((attempt) => attempt.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(19);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(39);
    expect(logs).toEqual([
      'Prune (Event) failed: Task timed out; retry 1 of 2 in 20 ms',
      'Prune (Event) failed: Task timed out; retry 2 of 2 in 40 ms',
      'Prune (Event) failed: Task timed out; discarded the event after 3 attempts',
    ]);
  });

  it('stops retrying once an attempt succeeds', async () => {
    const { queue, attempts, logs } = queueFor([FAILED]);

    queue.enqueue('PruneFn', {});
    await idle(queue);

    expect(attempts).toHaveLength(2);
    expect(logs).toHaveLength(1);
  });

  it('makes one attempt only with MaximumRetryAttempts 0', async () => {
    const { queue, attempts } = queueFor([FAILED, FAILED], {
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: 3600,
    });

    queue.enqueue('PruneFn', {});
    await idle(queue);

    expect(attempts).toHaveLength(1);
  });

  it('discards an event whose retry would come after MaximumEventAgeInSeconds, logging its on-failure record', async () => {
    const { queue, attempts, logs } = queueFor(
      [FAILED, FAILED],
      {
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 60,
        onFailure: 'PruneFailures (AWS::SQS::Queue)',
      },
      [61_000],
    );

    queue.enqueue('PruneFn', { gone: ['c2'] });
    await idle(queue);

    expect(attempts).toHaveLength(1);
    expect(logs[0]).toContain('discarded the event: it would pass MaximumEventAgeInSeconds (60)');
    const destination = logs[1] ?? '';
    expect(destination).toContain('on-failure destination PruneFailures (AWS::SQS::Queue)');
    expect(JSON.parse(destination.slice(destination.indexOf('{')))).toMatchObject({
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:PruneFn:$LATEST',
        condition: 'EventAgeExceeded',
        approximateInvokeCount: 1,
      },
      requestPayload: { gone: ['c2'] },
      responsePayload: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out' },
    });
  });

  it('is busy while an event waits for a retry', async () => {
    const { queue, attempts } = queueFor([FAILED], DEFAULT_ASYNC_INVOKE, [200]);

    queue.enqueue('PruneFn', {});
    await expect.poll(() => attempts.length, { timeout: 1000 }).toBe(1);

    expect(queue.busy).toBe(true);
    await idle(queue);
    expect(attempts).toHaveLength(2);
  });

  it('drops waiting retries when stopped', async () => {
    const { queue, attempts } = queueFor([FAILED], DEFAULT_ASYNC_INVOKE, [60_000]);
    queue.enqueue('PruneFn', {});
    await expect.poll(() => attempts.length, { timeout: 1000 }).toBe(1);

    await within(queue.stop(), 500, 'the queue to stop');

    expect(queue.busy).toBe(false);
    expect(attempts).toHaveLength(1);
  });
});
