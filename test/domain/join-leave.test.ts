import { beforeEach, describe, expect, it } from 'vitest';
import { join } from '../../lambdas/domain/requests/join.js';
import { leave } from '../../lambdas/domain/requests/leave.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { ProtocolError } from '../../lambdas/shared/errors.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

describe('join', () => {
  let world: ReturnType<typeof fakeServices>;
  beforeEach(() => {
    world = fakeServices();
  });

  it('replies joined with every member once and the room latest seq', async () => {
    const alice1 = await connect(world, callerOf('alice', 'a1'));
    const alice2 = await connect(world, callerOf('alice', 'a2'));
    const bob = await connect(world, callerOf('bob', 'b1', { name: 'Bob' }));
    world.rooms.seqs.set('lobby', 7);
    await join(world.services, alice1, { action: 'join', room: 'lobby' });
    await join(world.services, alice2, { action: 'join', room: 'lobby' });

    const reply = await join(world.services, bob, { action: 'join', id: 'j1', room: 'lobby' });

    expect(reply).toEqual({
      type: 'joined',
      id: 'j1',
      room: 'lobby',
      members: expect.arrayContaining([
        { userId: 'alice', name: 'alice' },
        { userId: 'bob', name: 'Bob' },
      ]),
      seq: 7,
    });
    expect(reply && 'members' in reply && reply.members).toHaveLength(2);
  });

  it('refuses a join beyond MAX_ROOMS_PER_CONNECTION with forbidden, adding nothing, and joins again after a leave', async () => {
    const capped = fakeServices({ maxRoomsPerConnection: 2 });
    const alice = await connect(capped, callerOf('alice', 'a1'));
    await join(capped.services, alice, { action: 'join', room: 'r1' });
    await join(capped.services, alice, { action: 'join', room: 'r2' });

    const refused = join(capped.services, alice, { action: 'join', id: 'j3', room: 'r3' });

    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    expect(capped.connections.records.get('a1')?.rooms).toEqual(new Set(['r1', 'r2']));
    expect((await capped.rooms.snapshot('r3')).members).toEqual([]);
    // Joining a room already joined is not a new room.
    await expect(
      join(capped.services, alice, { action: 'join', room: 'r2' }),
    ).resolves.toMatchObject({ type: 'joined' });
    await leave(capped.services, alice, { action: 'leave', room: 'r1' });
    await expect(
      join(capped.services, alice, { action: 'join', room: 'r3' }),
    ).resolves.toMatchObject({ type: 'joined' });
  });

  describe('a join that fails after its admission', () => {
    it('is taken back when adding the membership fails: the room is on neither record', async () => {
      const alice = await connect(world, callerOf('alice', 'a1'));
      world.rooms.failing.add('addConnection');

      await expect(join(world.services, alice, { action: 'join', room: 'lobby' })).rejects.toThrow(
        'addConnection failed',
      );

      expect(world.connections.records.get('a1')?.rooms).toEqual(new Set());
      await expect(
        send(world.services, alice, { action: 'send', room: 'lobby', data: 1 }),
      ).rejects.toMatchObject({ code: 'not_member' });
    });

    it('is taken back when reading the room fails, and the next join announces the user', async () => {
      const bob = await connect(world, callerOf('bob', 'b1'));
      await join(world.services, bob, { action: 'join', room: 'lobby' });
      const alice = await connect(world, callerOf('alice', 'a1'));
      world.rooms.failing.add('snapshot');
      world.notifier.posts.length = 0;

      await expect(join(world.services, alice, { action: 'join', room: 'lobby' })).rejects.toThrow(
        'snapshot failed',
      );

      expect(world.connections.records.get('a1')?.rooms).toEqual(new Set());
      world.rooms.failing.clear();
      expect((await world.rooms.snapshot('lobby')).members.map((m) => m.userId)).toEqual(['bob']);
      await world.settle();
      // Arrived and departed within one window: announced as departed, which changes no view.
      expect(world.notifier.to('b1')).toEqual([
        { type: 'presence', room: 'lobby', joined: [], left: [{ userId: 'alice', name: 'alice' }] },
      ]);
      await join(world.services, alice, { action: 'join', room: 'lobby' });
      await world.settle();
      expect(world.notifier.to('b1').at(-1)).toEqual({
        type: 'presence',
        room: 'lobby',
        joined: [{ userId: 'alice', name: 'alice' }],
        left: [],
      });
    });

    it('leaves a connection that was in the room already where it was', async () => {
      const alice = await connect(world, callerOf('alice', 'a1'));
      await join(world.services, alice, { action: 'join', room: 'lobby' });
      world.rooms.failing.add('snapshot');

      await expect(
        join(world.services, alice, { action: 'join', room: 'lobby' }),
      ).rejects.toThrow();

      world.rooms.failing.clear();
      expect(world.connections.records.get('a1')?.rooms).toEqual(new Set(['lobby']));
      expect((await world.rooms.snapshot('lobby')).members.map((m) => m.userId)).toEqual(['alice']);
    });
  });

  it('announces a user to the others only on its first connection in the room', async () => {
    const bob = await connect(world, callerOf('bob', 'b1'));
    const alice1 = await connect(world, callerOf('alice', 'a1'));
    const alice2 = await connect(world, callerOf('alice', 'a2'));
    await join(world.services, bob, { action: 'join', room: 'lobby' });

    await world.settle();

    await join(world.services, alice1, { action: 'join', room: 'lobby' });
    await join(world.services, alice2, { action: 'join', room: 'lobby' });
    await world.settle();

    expect(world.notifier.to('b1')).toEqual([
      { type: 'presence', room: 'lobby', joined: [{ userId: 'alice', name: 'alice' }], left: [] },
    ]);
    // A frame never names its recipient's own user, so alice's connections get none.
    expect(world.notifier.to('a1')).toEqual([]);
    expect(world.notifier.to('a2')).toEqual([]);
  });

  it('succeeds again without announcing when the room is already joined', async () => {
    const bob = await connect(world, callerOf('bob', 'b1'));
    const alice = await connect(world, callerOf('alice', 'a1'));
    await join(world.services, bob, { action: 'join', room: 'lobby' });
    await join(world.services, alice, { action: 'join', room: 'lobby' });
    await world.settle();

    const again = await join(world.services, alice, { action: 'join', room: 'lobby' });
    await world.settle();

    expect(again).toMatchObject({ type: 'joined', room: 'lobby' });
    expect(world.notifier.to('b1')).toHaveLength(1);
  });

  it('refuses a room the rooms claim does not allow, and records nothing', async () => {
    const alice = await connect(world, callerOf('alice', 'a1', { rooms: ['doc:*'] }));

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect(world.rooms.members.get('lobby')).toBeUndefined();
    expect(world.connections.records.get('a1')?.rooms.size).toBe(0);
  });

  it('allows a room matched by a prefix pattern of the rooms claim', async () => {
    const alice = await connect(world, callerOf('alice', 'a1', { rooms: ['doc:*'] }));

    await expect(
      join(world.services, alice, { action: 'join', room: 'doc:42' }),
    ).resolves.toMatchObject({
      type: 'joined',
    });
  });

  it('answers rate_limited before forbidden', async () => {
    const alice = await connect(world, callerOf('alice', 'a1', { rooms: [] }));
    world.connections.throttled.add('a1');

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('answers token_expired once the connect token has expired and was not renewed', async () => {
    const expired = Math.floor(world.clock.now / 1000) - 31;
    const alice = await connect(world, callerOf('alice', 'a1', { exp: expired }));

    const attempt = join(world.services, alice, { action: 'join', room: 'lobby' });

    await expect(attempt).rejects.toBeInstanceOf(ProtocolError);
    await expect(attempt).rejects.toMatchObject({ code: 'token_expired' });
    expect(world.rooms.members.get('lobby')).toBeUndefined();
  });

  it('tolerates 30 seconds of clock skew on exp', async () => {
    const justExpired = Math.floor(world.clock.now / 1000) - 29;
    const alice = await connect(world, callerOf('alice', 'a1', { exp: justExpired }));

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).resolves.toMatchObject({
      type: 'joined',
    });
  });
});

describe('leave', () => {
  let world: ReturnType<typeof fakeServices>;
  beforeEach(() => {
    world = fakeServices();
  });

  it('announces a leave when the user has no connection left in the room', async () => {
    const bob = await connect(world, callerOf('bob', 'b1'));
    const alice = await connect(world, callerOf('alice', 'a1'));
    await join(world.services, bob, { action: 'join', room: 'lobby' });
    await join(world.services, alice, { action: 'join', room: 'lobby' });

    await world.settle();
    const before = world.notifier.posts.length;

    const reply = await leave(world.services, alice, { action: 'leave', id: 'l', room: 'lobby' });
    // Announced by the presence function, not by the request.
    expect(world.notifier.posts.length).toBe(before);
    await world.settle();

    expect(reply).toEqual({ type: 'left', id: 'l', room: 'lobby' });
    expect(world.notifier.to('b1').at(-1)).toEqual({
      type: 'presence',
      room: 'lobby',
      joined: [],
      left: [{ userId: 'alice', name: 'alice' }],
    });
    expect(world.connections.records.get('a1')?.rooms.has('lobby')).toBe(false);
  });

  it('announces nothing while the user keeps another connection in the room', async () => {
    const bob = await connect(world, callerOf('bob', 'b1'));
    const alice1 = await connect(world, callerOf('alice', 'a1'));
    const alice2 = await connect(world, callerOf('alice', 'a2'));
    for (const caller of [bob, alice1, alice2]) {
      await join(world.services, caller, { action: 'join', room: 'lobby' });
    }
    await world.settle();
    const before = world.notifier.posts.length;

    await leave(world.services, alice1, { action: 'leave', room: 'lobby' });
    await world.settle();

    expect(world.notifier.posts.length).toBe(before);
  });

  it('succeeds and announces nothing for a room not joined', async () => {
    const alice = await connect(world, callerOf('alice', 'a1'));

    await expect(leave(world.services, alice, { action: 'leave', room: 'lobby' })).resolves.toEqual(
      {
        type: 'left',
        room: 'lobby',
      },
    );
    expect(world.notifier.posts).toEqual([]);
  });
});
