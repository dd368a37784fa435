import { beforeEach, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, CONNECT_GRACE_MS } from '../../lambdas/domain/pruning.js';
import { createAuth } from '../../lambdas/domain/requests/auth.js';
import { direct } from '../../lambdas/domain/requests/direct.js';
import { history } from '../../lambdas/domain/requests/history.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { ping } from '../../lambdas/domain/requests/ping.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { callerOf, connect, FakeVerifier, fakeServices } from '../support/fakes.js';

describe('direct', () => {
  let world: ReturnType<typeof fakeServices>;
  beforeEach(() => {
    world = fakeServices();
  });

  it('reaches every connection of the user and acks how many', async () => {
    const alice = await connect(world, callerOf('alice', 'a1'));
    await connect(world, callerOf('bob', 'b1'));
    await connect(world, callerOf('bob', 'b2'));

    const ack = await direct(world.services, alice, {
      action: 'direct',
      id: 'd',
      to: 'bob',
      data: 'psst',
    });

    const frame = {
      type: 'direct',
      from: { userId: 'alice', name: 'alice' },
      data: 'psst',
      ts: world.clock.now,
    };
    expect(ack).toEqual({ type: 'ack', id: 'd', delivered: 2 });
    expect(world.notifier.to('b1')).toEqual([frame]);
    expect(world.notifier.to('b2')).toEqual([frame]);
    expect(world.notifier.to('a1')).toEqual([]);
  });

  it('to oneself reaches all of one’s own connections', async () => {
    const alice = await connect(world, callerOf('alice', 'a1'));
    await connect(world, callerOf('alice', 'a2'));

    const ack = await direct(world.services, alice, {
      action: 'direct',
      id: 'd',
      to: 'alice',
      data: 1,
    });

    expect(ack).toMatchObject({ delivered: 2 });
  });

  it('succeeds with delivered 0 for a user with no open connection', async () => {
    const alice = await connect(world, callerOf('alice', 'a1'));

    await expect(
      direct(world.services, alice, { action: 'direct', id: 'd', to: 'nobody', data: 1 }),
    ).resolves.toEqual({ type: 'ack', id: 'd', delivered: 0 });
  });

  it('hands the recipient’s gone connections to pruning and does not count them', async () => {
    const alice = await connect(world, callerOf('alice', 'a1'));
    await connect(world, callerOf('bob', 'b1'));
    await connect(world, callerOf('bob', 'b2'));
    world.notifier.gone.add('b2');
    world.clock.now += 60_000;

    const ack = await direct(world.services, alice, {
      action: 'direct',
      id: 'd',
      to: 'bob',
      data: 1,
    });

    expect(ack).toMatchObject({ delivered: 1 });
    expect(world.pruneQueue.queued.map((gone) => gone.connectionId)).toEqual(['b2']);
    await world.settle();
    expect(world.connections.records.has('b2')).toBe(false);
    expect(world.connections.records.has('b1')).toBe(true);
  });

  describe('a recipient connection found gone while it may still be in its handshake', () => {
    /** Alice directs to bob, whose connection b1 the management API answers 410 for. */
    async function directToBobInHandshake() {
      const alice = await connect(world, callerOf('alice', 'a1'));
      const bob = await connect(world, callerOf('bob', 'b1'));
      world.notifier.gone.add('b1');
      const ack = await direct(world.services, alice, {
        action: 'direct',
        id: 'd',
        to: 'bob',
        data: 1,
      });
      expect(ack).toMatchObject({ delivered: 0 });
      return bob;
    }

    it('is kept when it has made no request within 30 s of connecting: its $connect may still run', async () => {
      await directToBobInHandshake();

      await world.settle();

      expect(world.connections.records.has('b1')).toBe(true);
    });

    it.each([
      ['at once', 1],
      ['as a retry a minute after a failure, past the 30 s grace', 60_000],
    ])(
      'is kept when its first request arrived after the post, the prune running %s',
      async (_, lateMs) => {
        const bob = await directToBobInHandshake();
        // The handshake completes and bob pings before the prune function runs.
        world.notifier.gone.delete('b1');
        world.clock.now += 1;
        await ping(world.services, bob, { action: 'ping' });
        world.clock.now += lateMs;

        await world.settle();

        expect(world.connections.records.has('b1')).toBe(true);
        expect(
          await direct(world.services, callerOf('alice', 'a1'), {
            action: 'direct',
            id: 'd2',
            to: 'bob',
            data: 2,
          }),
        ).toMatchObject({ delivered: 1 });
      },
    );

    /**
     * Bob connects (and pings, when `pinged`) and vanishes; `gapMs` later
     * alice's direct finds him gone and the prune runs. Whether his record is kept.
     */
    async function keptAfterDirect(gapMs: number, pinged: boolean): Promise<boolean> {
      const alice = await connect(world, callerOf('alice', 'a1'));
      const bob = await connect(world, callerOf('bob', 'b1'));
      if (pinged) await ping(world.services, bob, { action: 'ping' });
      world.notifier.gone.add('b1');
      world.clock.now += gapMs;

      await direct(world.services, alice, { action: 'direct', to: 'bob', data: 1 });
      await world.settle();

      return world.connections.records.has('b1');
    }

    it.each([
      [
        'removed at once when a request it sent arrived before the post: it had opened, so 410 means gone',
        CLOCK_SKEW_MS + 1,
        true,
        false,
      ],
      [
        'kept when its request arrived within the clock skew allowed before the post',
        CLOCK_SKEW_MS,
        true,
        true,
      ],
      [
        'removed when it had connected more than 30 s before the post, request or not',
        CONNECT_GRACE_MS + 1,
        false,
        false,
      ],
    ])('is %s', async (_, gapMs, pinged, kept) => {
      expect(await keptAfterDirect(gapMs, pinged)).toBe(kept);
    });
  });

  it('refuses data over MAX_DATA_BYTES with too_large and reaches nobody', async () => {
    world = fakeServices({ maxDataBytes: 3 });
    const alice = await connect(world, callerOf('alice', 'a1'));
    await connect(world, callerOf('bob', 'b1'));

    await expect(
      direct(world.services, alice, { action: 'direct', to: 'bob', data: 'long' }),
    ).rejects.toMatchObject({ code: 'too_large' });
    expect(world.notifier.posts).toEqual([]);
  });
});

describe('history', () => {
  let world: ReturnType<typeof fakeServices>;
  const alice = callerOf('alice', 'a1');
  beforeEach(async () => {
    world = fakeServices();
    await connect(world, alice);
    await join(world.services, alice, { action: 'join', room: 'lobby' });
    for (let i = 1; i <= 5; i++) {
      await send(world.services, alice, { action: 'send', room: 'lobby', data: i });
    }
  });

  it('returns stored messages after a seq, ascending, and whether more remain', async () => {
    const reply = await history(world.services, alice, {
      action: 'history',
      id: 'h',
      room: 'lobby',
      after: 1,
      limit: 3,
    });

    expect(reply).toMatchObject({ type: 'history', id: 'h', room: 'lobby', hasMore: true });
    expect(reply && 'messages' in reply && reply.messages.map((m) => m.seq)).toEqual([2, 3, 4]);
  });

  it('says hasMore false when the last stored message is included', async () => {
    const reply = await history(world.services, alice, {
      action: 'history',
      room: 'lobby',
      after: 2,
      limit: 3,
    });

    expect(reply).toMatchObject({ hasMore: false });
  });

  it('returns fewer messages, with hasMore, when they would not fit in one 128 KiB frame', async () => {
    world = fakeServices({ maxDataBytes: 20_000 });
    await connect(world, alice);
    await join(world.services, alice, { action: 'join', room: 'lobby' });
    for (let i = 0; i < 10; i++) {
      await send(world.services, alice, {
        action: 'send',
        room: 'lobby',
        data: 'x'.repeat(19_000),
      });
    }

    const reply = await history(world.services, alice, {
      action: 'history',
      room: 'lobby',
      after: 0,
      limit: 10,
    });

    expect(reply && 'messages' in reply && reply.messages.length).toBe(6);
    expect(reply).toMatchObject({ hasMore: true });
    expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(131_072);
  });

  it('refuses a room not joined with not_member', async () => {
    const bob = await connect(world, callerOf('bob', 'b1'));

    await expect(
      history(world.services, bob, { action: 'history', room: 'lobby', after: 0, limit: 10 }),
    ).rejects.toMatchObject({ code: 'not_member' });
  });

  it('refuses a room the token does not allow with forbidden', async () => {
    const bob = await connect(world, callerOf('bob', 'b1', { rooms: ['x'] }));

    await expect(
      history(world.services, bob, { action: 'history', room: 'lobby', after: 0, limit: 10 }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('auth', () => {
  const auth = createAuth(new FakeVerifier());

  it('renews an expired token for the same sub, after which requests work again', async () => {
    const world = fakeServices();
    const nowSec = Math.floor(world.clock.now / 1000);
    const alice = await connect(world, callerOf('alice', 'a1', { exp: nowSec - 60 }));
    await expect(ping(world.services, alice, { action: 'ping' })).rejects.toMatchObject({
      code: 'token_expired',
    });

    const reply = await auth(world.services, alice, {
      action: 'auth',
      id: 'r',
      token: `valid:alice:${nowSec + 600}`,
    });

    expect(reply).toEqual({ type: 'authed', id: 'r', exp: nowSec + 600 });
    await expect(ping(world.services, alice, { action: 'ping' })).resolves.toMatchObject({
      type: 'pong',
    });
  });

  it('refuses a token for another sub with forbidden and leaves the expiry unchanged', async () => {
    const world = fakeServices();
    const nowSec = Math.floor(world.clock.now / 1000);
    const alice = await connect(world, callerOf('alice', 'a1', { exp: nowSec - 60 }));

    await expect(
      auth(world.services, alice, { action: 'auth', token: `valid:bob:${nowSec + 600}` }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect(world.connections.records.get('a1')?.renewedExp).toBeUndefined();
    await expect(ping(world.services, alice, { action: 'ping' })).rejects.toMatchObject({
      code: 'token_expired',
    });
  });

  it('refuses an invalid token with unauthorized and leaves the expiry unchanged', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));

    await expect(
      auth(world.services, alice, { action: 'auth', token: 'garbage' }),
    ).rejects.toMatchObject({ code: 'unauthorized' });
    expect(world.connections.records.get('a1')?.renewedExp).toBeUndefined();
  });

  it('answers internal, not unauthorized, when the verifier itself fails', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));

    await expect(auth(world.services, alice, { action: 'auth', token: 'broken' })).rejects.toThrow(
      'JWKS unreachable',
    );
    expect(world.connections.admissions).toBe(0);
  });

  it('answers rate_limited before judging the token', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));
    world.connections.throttled.add('a1');

    await expect(
      auth(world.services, alice, { action: 'auth', token: 'garbage' }),
    ).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('ping', () => {
  it('answers pong with the server time and the request id', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));

    await expect(ping(world.services, alice, { action: 'ping', id: 'p' })).resolves.toEqual({
      type: 'pong',
      id: 'p',
      ts: world.clock.now,
    });
  });

  it('answers rate_limited when the connection exceeds its rate', async () => {
    const world = fakeServices();
    const alice = await connect(world, callerOf('alice', 'a1'));
    world.connections.throttled.add('a1');

    await expect(ping(world.services, alice, { action: 'ping' })).rejects.toMatchObject({
      code: 'rate_limited',
    });
  });

  it('answers internal when the connection record is gone', async () => {
    const world = fakeServices();

    await expect(
      ping(world.services, callerOf('ghost', 'g1'), { action: 'ping' }),
    ).rejects.toMatchObject({
      code: 'internal',
    });
  });
});
