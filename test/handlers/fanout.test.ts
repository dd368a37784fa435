import { beforeAll, describe, expect, it } from 'vitest';
import type { createFanOutHandler as Factory } from '../../lambdas/handlers/fanout.js';
import { FakeNotifier } from '../support/fakes.js';

// The module builds its notifier from the environment when it loads.
Object.assign(process.env, {
  CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
  AWS_REGION: 'us-east-1',
});
let createFanOutHandler: typeof Factory;
beforeAll(async () => {
  ({ createFanOutHandler } = await import('../../lambdas/handlers/fanout.js'));
});

const TARGETS = [
  { connectionId: 'c1', userId: 'u1', name: 'One' },
  { connectionId: 'c2', userId: 'u2', name: 'Two' },
  { connectionId: 'c3', userId: 'u3', name: 'Three' },
];
const PAYLOAD = JSON.stringify({ type: 'message', room: 'big', seq: 3, data: 'hi' });

describe('the fan-out worker', () => {
  it('posts the payload to every target and reports the gone ones without pruning', async () => {
    const notifier = new FakeNotifier();
    notifier.gone.add('c2');

    const report = await createFanOutHandler(notifier)({ payload: PAYLOAD, targets: TARGETS });

    expect(report).toEqual({ delivered: 2, failed: 0, gone: [TARGETS[1]] });
    expect(notifier.posts.map((post) => post.connectionId).sort()).toEqual(['c1', 'c3']);
  });

  it('counts posts that failed after retries', async () => {
    const notifier = new FakeNotifier();
    notifier.failing.add('c3');

    const report = await createFanOutHandler(notifier)({ payload: PAYLOAD, targets: TARGETS });

    expect(report).toEqual({ delivered: 2, failed: 1, gone: [] });
  });

  it.each([
    ['no object', null, 'must be an object'],
    ['no payload', { targets: TARGETS }, 'payload'],
    ['an empty payload', { payload: '', targets: TARGETS }, 'payload'],
    ['a payload over 128 KiB', { payload: 'x'.repeat(128 * 1024 + 1), targets: TARGETS }, '131072'],
    ['targets not a list', { payload: PAYLOAD, targets: 'c1' }, 'targets'],
    [
      'a target without a connection id',
      { payload: PAYLOAD, targets: [{ userId: 'u', name: 'n' }] },
      'connectionId',
    ],
  ])('refuses %s before posting anything', async (_, event, message) => {
    const notifier = new FakeNotifier();

    await expect(createFanOutHandler(notifier)(event)).rejects.toThrow(message);
    expect(notifier.posts).toEqual([]);
  });
});
