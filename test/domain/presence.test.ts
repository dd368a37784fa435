import { describe, expect, it } from 'vitest';
import {
  coalesce,
  MAX_PRESENCE_FRAME_BYTES,
  type MembershipChange,
  presencePayloads,
} from '../../lambdas/domain/presence.js';
import { announcePresence } from '../../lambdas/domain/presence-announcer.js';
import type { PresenceFrame } from '../../protocol/messages.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

let position = 0;
const change = (room: string, userId: string, present: boolean): MembershipChange => ({
  room,
  user: { userId, name: userId.toUpperCase() },
  present,
  position: String(++position),
});
const user = (userId: string) => ({ userId, name: userId.toUpperCase() });

describe('coalescing presence', () => {
  it('gives each room one entry with each user once, as its last change left it', () => {
    const rooms = coalesce([
      change('lobby', 'alice', true),
      change('lobby', 'bob', true),
      change('ops', 'alice', true),
      change('lobby', 'bob', false),
      change('lobby', 'carol', false),
      change('lobby', 'carol', true),
    ]);

    expect(rooms.map(({ room, joined, left }) => ({ room, joined, left }))).toEqual([
      { room: 'lobby', joined: [user('alice'), user('carol')], left: [user('bob')] },
      { room: 'ops', joined: [user('alice')], left: [] },
    ]);
    expect(rooms[0]?.positions).toHaveLength(5);
  });

  it('never names the recipient’s own user, and gives it nothing when nothing else changed', () => {
    const [lobby] = coalesce([change('lobby', 'alice', true), change('lobby', 'bob', false)]);
    if (lobby === undefined) throw new Error('no room');

    expect(presencePayloads(lobby, 'alice').map((p) => JSON.parse(p))).toEqual([
      { type: 'presence', room: 'lobby', joined: [], left: [user('bob')] },
    ]);
    const [alone] = coalesce([change('lobby', 'alice', true)]);
    expect(presencePayloads(alone as NonNullable<typeof alone>, 'alice')).toEqual([]);
  });

  it('splits a window too large for one 32 KB frame, each user in one frame only', () => {
    const many = Array.from({ length: 600 }, (_, i) =>
      change('big', `user-${'x'.repeat(60)}-${i}`, i % 3 !== 0),
    );
    const [big] = coalesce(many);
    if (big === undefined) throw new Error('no room');

    const frames = presencePayloads(big).map((p) => JSON.parse(p) as PresenceFrame);

    expect(frames.length).toBeGreaterThan(1);
    for (const payload of presencePayloads(big)) {
      expect(new TextEncoder().encode(payload).length).toBeLessThanOrEqual(
        MAX_PRESENCE_FRAME_BYTES,
      );
    }
    const named = frames.flatMap((f) => [...f.joined, ...f.left].map((u) => u.userId));
    expect(named).toHaveLength(600);
    expect(new Set(named).size).toBe(600);
  });
});

describe('announcing presence', () => {
  it('posts one coalesced frame to each member connection, tailored for the members who changed', async () => {
    const world = fakeServices();
    for (const [userId, connectionId] of [
      ['alice', 'a1'],
      ['alice', 'a2'],
      ['bob', 'b1'],
      ['carol', 'c1'],
    ] as const) {
      const caller = await connect(world, callerOf(userId, connectionId));
      await world.rooms.addConnection('lobby', caller.identity, caller.connectionId);
    }
    const changes = world.rooms.changes.splice(0);

    const report = await announcePresence(world.services, changes);

    expect(report).toMatchObject({ announced: 1, failedFrom: [] });
    expect(world.notifier.to('b1')).toEqual([
      {
        type: 'presence',
        room: 'lobby',
        joined: [
          { userId: 'alice', name: 'alice' },
          { userId: 'carol', name: 'carol' },
        ],
        left: [],
      },
    ]);
    for (const own of ['a1', 'a2']) {
      expect(world.notifier.to(own)).toEqual([
        {
          type: 'presence',
          room: 'lobby',
          joined: [
            { userId: 'bob', name: 'bob' },
            { userId: 'carol', name: 'carol' },
          ],
          left: [],
        },
      ]);
    }
    expect(world.notifier.posts).toHaveLength(4);
  });

  it('reports a room whose members cannot be read from its first change, and announces the others', async () => {
    const world = fakeServices();
    world.rooms.unreadable.add('broken');
    const bob = await connect(world, callerOf('bob', 'b1'));
    await world.rooms.addConnection('lobby', bob.identity, bob.connectionId);
    world.rooms.changes.length = 0;

    const report = await announcePresence(world.services, [
      { room: 'broken', user: user('x'), present: true, position: '10' },
      { room: 'lobby', user: user('alice'), present: true, position: '11' },
      { room: 'broken', user: user('y'), present: true, position: '12' },
    ]);

    expect(report.failedFrom).toEqual(['10']);
    expect(report.announcedPositions).toEqual(['11']);
    expect(world.notifier.to('b1')).toHaveLength(1);
  });

  it('hands the connections its posts find gone to pruning, with their room', async () => {
    const world = fakeServices();
    for (const [userId, connectionId] of [
      ['bob', 'b1'],
      ['dan', 'd1'],
    ] as const) {
      const caller = await connect(world, callerOf(userId, connectionId));
      await world.rooms.addConnection('lobby', caller.identity, caller.connectionId);
    }
    world.rooms.changes.length = 0;
    world.notifier.gone.add('d1');

    await announcePresence(world.services, [
      { room: 'lobby', user: user('alice'), present: true, position: '1' },
    ]);

    expect(world.pruneQueue.queued).toEqual([
      { userId: 'dan', name: 'dan', connectionId: 'd1', room: 'lobby', postedAt: world.clock.now },
    ]);
  });
});
