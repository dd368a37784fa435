import { beforeEach, describe, expect, it } from 'vitest';
import { closeConnection } from '../../lambdas/domain/connection-lifecycle.js';
import { MAX_PRUNES_PER_REQUEST } from '../../lambdas/domain/fan-out.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import type { ServerFrame } from '../../protocol/messages.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

let world: ReturnType<typeof fakeServices>;
beforeEach(() => {
  world = fakeServices();
});

async function lobbyWith(count: number, prefix: string) {
  const callers = Array.from({ length: count }, (_, i) =>
    callerOf(`${prefix}${i}`, `${prefix}-c${i}`),
  );
  for (const caller of callers) {
    await connect(world, caller);
    await join(world.services, caller, { action: 'join', room: 'lobby' });
  }
  return callers;
}

/** One connection in the lobby, of user `userId`. */
async function member(userId: string) {
  const caller = callerOf(userId, `${userId}-c`);
  await connect(world, caller);
  await join(world.services, caller, { action: 'join', room: 'lobby' });
  return caller;
}

const leavesTo = (connectionId: string) =>
  world.notifier
    .to(connectionId)
    .filter((f): f is Extract<ServerFrame, { type: 'presence' }> => f.type === 'presence')
    .filter((f) => f.event === 'leave')
    .map((f) => f.user.userId)
    .sort();

describe('pruning', () => {
  it('announces a leave for every gone user one fan-out finds, however many', async () => {
    const alice = await member('alice');
    const gone = await lobbyWith(6, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);
    world.notifier.posts.length = 0;

    await send(world.services, alice, { action: 'send', room: 'lobby', data: 'hello' });

    expect([...world.connections.records.keys()]).toEqual([alice.connectionId]);
    expect(leavesTo(alice.connectionId)).toEqual(gone.map((c) => c.identity.userId).sort());
  });

  it(`departs at most ${MAX_PRUNES_PER_REQUEST} connections per request, leaving the rest to the next`, async () => {
    const alice = await member('alice');
    const gone = await lobbyWith(MAX_PRUNES_PER_REQUEST + 5, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);

    await send(world.services, alice, { action: 'send', room: 'lobby', data: 1 });
    expect(world.connections.records.size).toBe(1 + 5);

    await send(world.services, alice, { action: 'send', room: 'lobby', data: 2 });
    expect([...world.connections.records.keys()]).toEqual([alice.connectionId]);
    expect(leavesTo(alice.connectionId)).toHaveLength(gone.length);
  });

  it('on $disconnect also prunes the gone connections its leave announcement finds', async () => {
    const alice = await member('user0');
    const bob = await member('user1');
    const gone = await lobbyWith(2, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);

    await closeConnection(world.services, alice);

    expect([...world.connections.records.keys()]).toEqual([bob.connectionId]);
    expect(leavesTo(bob.connectionId)).toEqual(['gone0', 'gone1', 'user0']);
  });
});
