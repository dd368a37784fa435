import { describe, expect, it } from 'vitest';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { createMessageHandler } from '../../lambdas/handlers/message-handler.js';
import { routeEvent } from '../support/events.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

/** `data` nested `depth` arrays deep: 2 bytes a level once serialized. */
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

// The local stack runs each function on a worker thread, whose stack (4 MB by
// default) takes such data in its stride; Lambda runs the handler on Node's
// main thread, whose stack (V8's default, under 1 MB) is the size this test's
// own thread has. Through the local stack the same frame is acked.
describe('data nested deeper than a Lambda stack can serialize recursively', () => {
  it('is the size of the stack this test runs on', () => {
    expect(() => JSON.stringify(JSON.parse(nested(8_000)))).toThrow(RangeError);
  });

  it('acks a send of 16,000 bytes of data nested 8,000 levels deep, as PROTOCOL.md promises whatever its nesting', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));
    await join(world.services, alice, { action: 'join', room: 'lobby' });
    const handler = createMessageHandler('send', send, world.services);
    const data = nested(8_000);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(world.services.limits.maxDataBytes);

    const result = await handler(
      routeEvent('send', `{"action":"send","id":"deep","room":"lobby","data":${data}}`, {
        connectionId: 'a1',
        sub: 'alice',
      }),
    );

    expect(JSON.parse(result.body ?? '{}')).toEqual({
      type: 'ack',
      id: 'deep',
      room: 'lobby',
      seq: 1,
    });
  });
});
