import { describe, expect, it } from 'vitest';
import { closeConnection, openConnection } from '../../lambdas/domain/connection-lifecycle.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

describe('connection lifecycle', () => {
  it('records a connection while the user is under MAX_CONNECTIONS_PER_USER', async () => {
    const world = fakeServices({ maxConnectionsPerUser: 2 });

    expect(await openConnection(world.services, callerOf('alice', 'a1'))).toEqual({
      kind: 'accepted',
    });
    expect(await openConnection(world.services, callerOf('alice', 'a2'))).toEqual({
      kind: 'accepted',
    });
    expect(world.connections.records.get('a2')).toMatchObject({ userId: 'alice', name: 'alice' });
  });

  it('refuses the connection over MAX_CONNECTIONS_PER_USER and records nothing', async () => {
    const world = fakeServices({ maxConnectionsPerUser: 2 });
    await openConnection(world.services, callerOf('alice', 'a1'));
    await openConnection(world.services, callerOf('alice', 'a2'));

    expect(await openConnection(world.services, callerOf('alice', 'a3'))).toEqual({
      kind: 'too_many_connections',
    });
    expect(world.connections.records.has('a3')).toBe(false);
    expect(await openConnection(world.services, callerOf('bob', 'b1'))).toEqual({
      kind: 'accepted',
    });
  });

  it('on disconnect removes the connection and its memberships and announces the leave', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));
    const bob = await connect(world, callerOf('bob', 'b1'));
    for (const room of ['one', 'two']) {
      await join(world.services, alice, { action: 'join', room });
      await join(world.services, bob, { action: 'join', room });
    }
    await world.settle();
    world.notifier.posts.length = 0;

    await closeConnection(world.services, alice);
    // $disconnect posts nothing itself: the presence function announces.
    expect(world.notifier.posts).toEqual([]);
    await world.settle();

    expect(world.connections.records.has('a1')).toBe(false);
    expect((await world.rooms.snapshot('one')).members.map((m) => m.userId)).toEqual(['bob']);
    expect(world.notifier.to('b1')).toEqual([
      { type: 'presence', room: 'one', joined: [], left: [{ userId: 'alice', name: 'alice' }] },
      { type: 'presence', room: 'two', joined: [], left: [{ userId: 'alice', name: 'alice' }] },
    ]);
  });

  it('on disconnect announces nothing while the user has another connection in the room', async () => {
    const world = fakeServices();
    const alice1 = await connect(world, callerOf('alice', 'a1'));
    const alice2 = await connect(world, callerOf('alice', 'a2'));
    const bob = await connect(world, callerOf('bob', 'b1'));
    for (const caller of [alice1, alice2, bob]) {
      await join(world.services, caller, { action: 'join', room: 'one' });
    }
    await world.settle();
    world.notifier.posts.length = 0;

    await closeConnection(world.services, alice1);
    await world.settle();

    expect(world.notifier.posts).toEqual([]);
  });

  it('tolerates a disconnect whose record is already gone', async () => {
    const world = fakeServices();

    await expect(closeConnection(world.services, callerOf('alice', 'a1'))).resolves.toEqual({});
  });
});
