import { beforeEach, describe, expect, it } from 'vitest';
import { publish } from '../../lambdas/domain/publish.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { ProtocolError } from '../../lambdas/shared/errors.js';
import { SYSTEM_USER } from '../../protocol/publish.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

const OPS = { userId: 'ops', name: 'Operations' };

describe('publish', () => {
  let world: ReturnType<typeof fakeServices>;
  beforeEach(() => {
    world = fakeServices({ maxDataBytes: 64 });
  });

  async function room(name: string, ...callers: Array<ReturnType<typeof callerOf>>) {
    for (const caller of callers) {
      await connect(world, caller);
      await join(world.services, caller, { action: 'join', room: name });
    }
    world.notifier.posts.length = 0;
  }

  describe('to a room', () => {
    it('numbers, stores and delivers a message to every connection of every member', async () => {
      await room('lobby', callerOf('alice', 'a1'), callerOf('alice', 'a2'), callerOf('bob', 'b1'));

      const result = await publish(world.services, {
        room: 'lobby',
        data: { text: 'deployed' },
        from: OPS,
      });

      const message = {
        type: 'message',
        room: 'lobby',
        seq: 1,
        from: OPS,
        data: { text: 'deployed' },
        ts: world.clock.now,
      };
      expect(result).toEqual({ ok: true, room: 'lobby', seq: 1, delivered: 3 });
      for (const id of ['a1', 'a2', 'b1']) expect(world.notifier.to(id)).toEqual([message]);
      expect(world.rooms.stored).toEqual([
        { message, expiresAt: Math.ceil(world.clock.now / 1000) + 24 * 3600 },
      ]);
    });

    it('takes its seq from the same sequence as send', async () => {
      const alice = callerOf('alice', 'a1');
      await room('lobby', alice);

      await send(world.services, alice, { action: 'send', room: 'lobby', data: 'one' });
      const published = await publish(world.services, { room: 'lobby', data: 'two', from: OPS });
      const ack = await send(world.services, alice, {
        action: 'send',
        id: 's',
        room: 'lobby',
        data: 'three',
      });

      expect(published).toMatchObject({ seq: 2 });
      expect(ack).toMatchObject({ seq: 3 });
      expect(world.notifier.to('a1').map((frame) => 'seq' in frame && frame.seq)).toEqual([
        1, 2, 3,
      ]);
    });

    it('stores a message for a room with no member, delivering it to no one', async () => {
      const result = await publish(world.services, { room: 'empty', data: 1, from: OPS });

      expect(result).toEqual({ ok: true, room: 'empty', seq: 1, delivered: 0 });
      expect(world.rooms.stored).toHaveLength(1);
      expect(world.notifier.posts).toEqual([]);
    });

    it('hands a member connection that is gone to pruning, which announces its leave', async () => {
      await room('lobby', callerOf('alice', 'a1'), callerOf('bob', 'b1'));
      // Bob joined a second ago, then vanished.
      world.notifier.gone.add('b1');
      world.clock.now += 1_000;

      const result = await publish(world.services, { room: 'lobby', data: 1, from: OPS });

      expect(result).toMatchObject({ delivered: 1 });
      expect(world.pruneQueue.queued.map((gone) => gone.connectionId)).toEqual(['b1']);
      await world.settle();
      expect(world.connections.records.has('b1')).toBe(false);
      expect(world.notifier.to('a1')).toContainEqual({
        type: 'presence',
        room: 'lobby',
        joined: [],
        left: [{ userId: 'bob', name: 'bob' }],
      });
    });
  });

  describe('to a user', () => {
    it('delivers a direct frame to every open connection of the user and no one else', async () => {
      await connect(world, callerOf('alice', 'a1'));
      await connect(world, callerOf('alice', 'a2'));
      await connect(world, callerOf('bob', 'b1'));

      const result = await publish(world.services, {
        user: 'alice',
        data: { text: 'export ready' },
        from: SYSTEM_USER,
      });

      const frame = {
        type: 'direct',
        from: SYSTEM_USER,
        data: { text: 'export ready' },
        ts: world.clock.now,
      };
      expect(result).toEqual({ ok: true, delivered: 2 });
      expect(world.notifier.to('a1')).toEqual([frame]);
      expect(world.notifier.to('a2')).toEqual([frame]);
      expect(world.notifier.to('b1')).toEqual([]);
      expect(world.rooms.stored).toEqual([]);
    });

    it('succeeds with delivered 0 for a user with no open connection', async () => {
      await expect(
        publish(world.services, { user: 'nobody', data: 1, from: OPS }),
      ).resolves.toEqual({ ok: true, delivered: 0 });
    });
  });

  it.each([
    ['a room', { room: 'lobby' }],
    ['a user', { user: 'alice' }],
  ])(
    'refuses data over MAX_DATA_BYTES to %s with too_large, changing nothing',
    async (_, target) => {
      const alice = callerOf('alice', 'a1');
      await room('lobby', alice);

      const refusal = publish(world.services, { ...target, data: 'x'.repeat(63), from: OPS });

      await expect(refusal).rejects.toBeInstanceOf(ProtocolError);
      await expect(refusal).rejects.toMatchObject({ code: 'too_large' });
      expect(world.rooms.seqs.get('lobby')).toBeUndefined();
      expect(world.rooms.stored).toEqual([]);
      expect(world.notifier.posts).toEqual([]);
    },
  );
});
