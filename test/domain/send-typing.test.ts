import { beforeEach, describe, expect, it } from 'vitest';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { typing } from '../../lambdas/domain/requests/typing.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

describe('send', () => {
  let world: ReturnType<typeof fakeServices>;
  beforeEach(() => {
    world = fakeServices();
  });

  async function room(...callers: Array<ReturnType<typeof callerOf>>) {
    for (const caller of callers) {
      await connect(world, caller);
      await join(world.services, caller, { action: 'join', room: 'lobby' });
    }
    world.notifier.posts.length = 0;
  }

  it('numbers, stores and delivers a message to every connection, the sender included', async () => {
    const alice = callerOf('alice', 'a1');
    const bob = callerOf('bob', 'b1');
    await room(alice, bob);

    const ack = await send(world.services, alice, {
      action: 'send',
      id: 'm1',
      room: 'lobby',
      data: { text: 'hi', nested: [1, null] },
    });

    const message = {
      type: 'message',
      room: 'lobby',
      seq: 1,
      from: { userId: 'alice', name: 'alice' },
      data: { text: 'hi', nested: [1, null] },
      ts: world.clock.now,
    };
    expect(ack).toEqual({ type: 'ack', id: 'm1', room: 'lobby', seq: 1 });
    expect(world.notifier.to('a1')).toEqual([message]);
    expect(world.notifier.to('b1')).toEqual([message]);
    expect(world.rooms.stored).toEqual([
      { message, expiresAt: Math.ceil(world.clock.now / 1000) + 24 * 3600 },
    ]);
  });

  it('acks and delivers even when handing a gone member to pruning fails, leaving it for later', async () => {
    const alice = callerOf('alice', 'a1');
    const bob = callerOf('bob', 'b1');
    const carol = callerOf('carol', 'c1');
    await room(alice, bob, carol);
    world.notifier.gone.add('c1');
    world.pruneQueue.failing = true;

    const ack = await send(world.services, alice, {
      action: 'send',
      id: 'm1',
      room: 'lobby',
      data: 'hi',
    });

    expect(ack).toMatchObject({ type: 'ack', seq: 1 });
    expect(world.notifier.to('b1')).toHaveLength(1);
    expect(world.connections.records.has('c1')).toBe(true);
  });

  it('gives strictly increasing seqs per room', async () => {
    const alice = callerOf('alice', 'a1');
    await room(alice);

    for (let i = 0; i < 3; i++) {
      await send(world.services, alice, { action: 'send', room: 'lobby', data: i });
    }

    expect(world.notifier.to('a1').map((frame) => 'seq' in frame && frame.seq)).toEqual([1, 2, 3]);
  });

  it('sends no ack when the request has no id', async () => {
    const alice = callerOf('alice', 'a1');
    await room(alice);

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: null }),
    ).resolves.toBeUndefined();
  });

  it('refuses data over MAX_DATA_BYTES with too_large, storing and delivering nothing', async () => {
    world = fakeServices({ maxDataBytes: 10 });
    const alice = callerOf('alice', 'a1');
    await room(alice);
    const admissions = world.connections.admissions;

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'x'.repeat(20) }),
    ).rejects.toMatchObject({ code: 'too_large' });
    expect(world.rooms.stored).toEqual([]);
    expect(world.rooms.seqs.get('lobby')).toBeUndefined();
    expect(world.notifier.posts).toEqual([]);
    expect(world.connections.admissions).toBe(admissions);
  });

  it('measures data as the UTF-8 bytes of its JSON', async () => {
    world = fakeServices({ maxDataBytes: 8 });
    const alice = callerOf('alice', 'a1');
    await room(alice);

    // "éé" serializes to 6 bytes with its quotes: within 8. "ééé" is 8: still within.
    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'ééé' }),
    ).resolves.toBeUndefined();
    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'éééé' }),
    ).rejects.toMatchObject({ code: 'too_large' });
  });

  it('refuses a room not joined with not_member and takes no seq', async () => {
    const alice = await connect(world, callerOf('alice', 'a1'));

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 1 }),
    ).rejects.toMatchObject({ code: 'not_member' });
    expect(world.rooms.seqs.get('lobby')).toBeUndefined();
  });

  it('answers forbidden before not_member for a room the token does not allow', async () => {
    const alice = await connect(world, callerOf('alice', 'a1', { rooms: ['other'] }));

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 1 }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('answers too_large before token_expired', async () => {
    world = fakeServices({ maxDataBytes: 4 });
    const expired = callerOf('alice', 'a1', { exp: Math.floor(world.clock.now / 1000) - 3600 });
    await connect(world, expired);

    await expect(
      send(world.services, expired, { action: 'send', room: 'lobby', data: 'too long' }),
    ).rejects.toMatchObject({ code: 'too_large' });
  });

  it('delivers to every live member and hands exactly the gone ones to pruning, which announces their leave', async () => {
    const alice = callerOf('alice', 'a1');
    const bob = callerOf('bob', 'b1');
    const carol = callerOf('carol', 'c1');
    const dave = callerOf('dave', 'd1');
    await room(alice, bob, carol, dave);
    await world.settle();
    world.notifier.posts.length = 0;
    // Bob and dave joined a second ago, then vanished.
    world.notifier.gone.add('b1');
    world.notifier.gone.add('d1');
    world.clock.now += 1_000;

    await send(world.services, alice, { action: 'send', room: 'lobby', data: 'hello' });

    const messages = (id: string) => world.notifier.to(id).filter((f) => f.type === 'message');
    expect(messages('a1')).toHaveLength(1);
    expect(messages('c1')).toHaveLength(1);
    // The request removes nobody itself: it hands the gone ones over.
    expect(world.connections.records.size).toBe(4);
    expect(world.pruneQueue.queued.map((gone) => [gone.connectionId, gone.room])).toEqual([
      ['b1', 'lobby'],
      ['d1', 'lobby'],
    ]);
    await world.settle();
    expect([...world.connections.records.keys()].sort()).toEqual(['a1', 'c1']);
    const members = (await world.rooms.snapshot('lobby')).members.map((m) => m.userId).sort();
    expect(members).toEqual(['alice', 'carol']);
    const presence = world.notifier.to('c1').filter((f) => f.type === 'presence');
    expect(presence).toEqual([
      {
        type: 'presence',
        room: 'lobby',
        joined: [],
        left: [
          { userId: 'bob', name: 'bob' },
          { userId: 'dave', name: 'dave' },
        ],
      },
    ]);
  });

  it('prunes a gone member that has made requests however recently it connected', async () => {
    const alice = callerOf('alice', 'a1');
    const bob = callerOf('bob', 'b1');
    await room(alice, bob);
    world.notifier.gone.add('b1');
    world.clock.now += 1_000;

    await send(world.services, alice, { action: 'send', room: 'lobby', data: 1 });
    await world.settle();

    expect(world.connections.records.has('b1')).toBe(false);
  });

  it('keeps delivering to the others when one post fails', async () => {
    const alice = callerOf('alice', 'a1');
    const bob = callerOf('bob', 'b1');
    const carol = callerOf('carol', 'c1');
    await room(alice, bob, carol);
    world.notifier.failing.add('b1');

    await send(world.services, alice, { action: 'send', id: 'x', room: 'lobby', data: 1 });

    expect(world.notifier.to('a1')).toHaveLength(1);
    expect(world.notifier.to('c1')).toHaveLength(1);
    // A failed post is not a gone connection: bob keeps his record and can recover by history.
    expect(world.connections.records.has('b1')).toBe(true);
  });

  it('reads members page by page', async () => {
    world.rooms.pageSize = 2;
    const callers = ['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => callerOf(u, `${u}-c`));
    await room(...callers);

    await send(world.services, callers[0] as ReturnType<typeof callerOf>, {
      action: 'send',
      room: 'lobby',
      data: 1,
    });

    expect(new Set(world.notifier.posts.map((p) => p.connectionId)).size).toBe(5);
  });
});

describe('typing', () => {
  it('reaches every other connection in the room, the same user’s other ones included, and is never stored', async () => {
    const world = fakeServices();
    const alice1 = await connect(world, callerOf('alice', 'a1'));
    const alice2 = await connect(world, callerOf('alice', 'a2'));
    const bob = await connect(world, callerOf('bob', 'b1'));
    for (const caller of [alice1, alice2, bob]) {
      await join(world.services, caller, { action: 'join', room: 'lobby' });
    }
    world.notifier.posts.length = 0;

    const reply = await typing(world.services, alice1, { action: 'typing', room: 'lobby' });

    const frame = { type: 'typing', room: 'lobby', user: { userId: 'alice', name: 'alice' } };
    expect(reply).toBeUndefined();
    expect(world.notifier.to('a1')).toEqual([]);
    expect(world.notifier.to('a2')).toEqual([frame]);
    expect(world.notifier.to('b1')).toEqual([frame]);
    expect(world.rooms.stored).toEqual([]);
  });

  it('refuses a room not joined with not_member and reaches nobody', async () => {
    const world = fakeServices();
    const bob = await connect(world, callerOf('bob', 'b1'));
    await join(world.services, bob, { action: 'join', room: 'lobby' });
    const alice = await connect(world, callerOf('alice', 'a1'));
    world.notifier.posts.length = 0;

    await expect(
      typing(world.services, alice, { action: 'typing', room: 'lobby' }),
    ).rejects.toMatchObject({ code: 'not_member' });
    expect(world.notifier.posts).toEqual([]);
  });

  it('refuses a room the token does not allow with forbidden', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1', { rooms: [] }));

    await expect(
      typing(world.services, alice, { action: 'typing', room: 'lobby' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});
