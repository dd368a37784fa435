import { beforeEach, describe, expect, it } from 'vitest';
import { closeConnection } from '../../lambdas/domain/connection-lifecycle.js';
import { pruneGone } from '../../lambdas/domain/pruning.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import type { PresenceFrame, ServerFrame } from '../../protocol/messages.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

let world: ReturnType<typeof fakeServices>;
beforeEach(() => {
  world = fakeServices();
});

/** `count` users of one connection each in the lobby, their arrivals announced. */
async function lobbyWith(count: number, prefix: string) {
  const callers = Array.from({ length: count }, (_, i) =>
    callerOf(`${prefix}${i}`, `${prefix}-c${i}`),
  );
  for (const caller of callers) {
    await connect(world, caller);
    await join(world.services, caller, { action: 'join', room: 'lobby' });
  }
  await world.settle();
  world.clock.now += 60_000;
  return callers;
}

const presenceTo = (connectionId: string) =>
  world.notifier
    .to(connectionId)
    .filter((f: ServerFrame): f is PresenceFrame => f.type === 'presence');

const leftSeenBy = (connectionId: string) =>
  presenceTo(connectionId)
    .flatMap((f) => f.left.map((user) => user.userId))
    .sort();

describe('pruning', () => {
  it('a send hands every gone connection it finds over and posts nothing but its message', async () => {
    const [alice] = await lobbyWith(1, 'alice');
    const gone = await lobbyWith(6, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);
    world.notifier.posts.length = 0;

    await send(world.services, alice as ReturnType<typeof callerOf>, {
      action: 'send',
      room: 'lobby',
      data: 'hello',
    });

    expect(world.notifier.posts.map((post) => post.frame.type)).toEqual(['message']);
    expect(world.pruneQueue.queued).toHaveLength(6);
    expect(world.connections.records.size).toBe(7);
  });

  it('announces the departures of gone users once, coalesced, however many fan-outs found them', async () => {
    const live = await lobbyWith(3, 'live');
    const gone = await lobbyWith(10, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);
    world.notifier.posts.length = 0;

    // Every live member sends before anything is pruned: each send finds all
    // ten, and the first to claim them hands them over.
    for (const caller of live) {
      await send(world.services, caller, { action: 'send', room: 'lobby', data: 1 });
    }
    expect(world.pruneQueue.queued).toHaveLength(10);
    await world.settle();

    for (const caller of live) {
      expect(presenceTo(caller.connectionId)).toHaveLength(1);
      expect(leftSeenBy(caller.connectionId)).toEqual(gone.map((c) => c.identity.userId).sort());
    }
    expect([...world.connections.records.keys()].sort()).toEqual(
      live.map((c) => c.connectionId).sort(),
    );
  });

  it('hands a gone connection over again in the next window when its pruning never happened', async () => {
    const [alice] = await lobbyWith(1, 'alice');
    const [gone] = await lobbyWith(1, 'gone');
    world.notifier.gone.add(gone?.connectionId ?? '');
    const sendOnce = () =>
      send(world.services, alice as ReturnType<typeof callerOf>, {
        action: 'send',
        room: 'lobby',
        data: 1,
      });

    await sendOnce();
    // The queued invocation is lost (its retries spent) before it removed anything.
    world.pruneQueue.queued.length = 0;
    world.clock.now += 59_999;
    await sendOnce();
    const withinWindow = world.pruneQueue.queued.length;
    world.clock.now += 2;
    await sendOnce();

    expect(withinWindow).toBe(0);
    expect(world.pruneQueue.queued.map((g) => g.connectionId)).toEqual([gone?.connectionId]);
  });

  it('hands every gone connection over when the claim cannot be written: a repeat is harmless, a loss is not', async () => {
    const [alice] = await lobbyWith(1, 'alice');
    const gone = await lobbyWith(2, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);
    world.rooms.failing.add('claimGone');

    for (let index = 0; index < 2; index++) {
      await send(world.services, alice as ReturnType<typeof callerOf>, {
        action: 'send',
        room: 'lobby',
        data: index,
      });
    }

    expect(world.pruneQueue.queued).toHaveLength(4);
    await world.settle();
    expect([...world.connections.records.keys()]).toEqual([alice?.connectionId]);
  });

  it('in a room of 200 users where 60 vanish, each live member gets every message and one departure frame', async () => {
    const users = await lobbyWith(200, 'user');
    const vanished = users.slice(0, 60);
    const live = users.slice(60);
    for (const caller of vanished) world.notifier.gone.add(caller.connectionId);
    world.notifier.posts.length = 0;
    const publisher = live[0] as ReturnType<typeof callerOf>;

    for (let index = 0; index < 5; index++) {
      await send(world.services, publisher, { action: 'send', room: 'lobby', data: index });
    }
    const postsOfSends = world.notifier.posts.length;
    await world.settle();

    // The sends posted their messages only: 5 to each of the 140 live connections.
    expect(postsOfSends).toBe(5 * 140);
    for (const caller of live) {
      const frames = world.notifier.to(caller.connectionId);
      expect(frames.filter((f) => f.type === 'message')).toHaveLength(5);
      expect(leftSeenBy(caller.connectionId)).toHaveLength(60);
    }
    // One batch of changes: one presence frame per live member (v1 sent 60 each).
    expect(world.notifier.posts.length - postsOfSends).toBe(140);
    const members = (await world.rooms.snapshot('lobby')).members.map((m) => m.userId);
    expect(members.sort()).toEqual(live.map((c) => c.identity.userId).sort());
  });

  it('on $disconnect removes its own connection only, handing over nothing', async () => {
    const [alice, bob] = await lobbyWith(2, 'user');
    const gone = await lobbyWith(2, 'gone');
    for (const caller of gone) world.notifier.gone.add(caller.connectionId);
    world.notifier.posts.length = 0;

    await closeConnection(world.services, alice as ReturnType<typeof callerOf>);

    expect(world.notifier.posts).toEqual([]);
    expect(world.pruneQueue.queued).toEqual([]);
    expect(world.connections.records.has('user-c0')).toBe(false);
    await world.settle();
    // The announcement finds the gone ones, which are pruned and announced in turn.
    expect(leftSeenBy(bob?.connectionId ?? '')).toEqual(['gone0', 'gone1', 'user0']);
    expect([...world.connections.records.keys()]).toEqual([bob?.connectionId]);
  });

  it('departs a connection handed over twice once, and a repeat finds nothing to do', async () => {
    const [, gone] = await lobbyWith(2, 'user');
    const target = { ...(gone as ReturnType<typeof callerOf>).identity, room: 'lobby' };
    const handOver = { connectionId: 'user-c1', userId: target.userId, name: target.name };

    const first = await pruneGone(world.services, [
      { ...handOver, room: 'lobby' },
      { ...handOver, room: 'lobby' },
    ]);
    const again = await pruneGone(world.services, [{ ...handOver, room: 'lobby' }]);

    expect(first).toEqual({ removed: 1, failed: 0 });
    expect(again).toEqual({ removed: 0, failed: 0 });
    expect(world.rooms.changes.filter((change) => !change.present)).toHaveLength(1);
  });

  it('removes the membership a fan-out found even when the connection record is already gone', async () => {
    const [alice] = await lobbyWith(2, 'user');
    world.connections.records.delete('user-c1');

    await pruneGone(world.services, [
      { connectionId: 'user-c1', userId: 'user1', name: 'user1', room: 'lobby' },
    ]);

    const members = (await world.rooms.snapshot('lobby')).members.map((m) => m.userId);
    expect(members).toEqual([alice?.identity.userId]);
  });

  it('reports a departure that failed, so that the prune function is retried', async () => {
    await lobbyWith(2, 'user');
    world.connections.failingRemoval.add('user-c1');

    const report = await pruneGone(world.services, [
      { connectionId: 'user-c1', userId: 'user1', name: 'user1', room: 'lobby' },
    ]);

    expect(report).toEqual({ removed: 0, failed: 1 });
  });
});
