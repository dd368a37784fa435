import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type ConfiguredAssembly, synthesizeConfigured } from '../support/configured-assembly.js';
import { useLocalStack, user } from './support/local-stack-fixture.js';
import { eventually, type Frame, HandshakeRefusedError, sleep } from './support/ws-client.js';

let counter = 0;
/** A name no other test uses: rooms and users are never shared between tests. */
const fresh = (label: string) => `${label}-${++counter}`;

/** Bound on a reply that may wait for many instances' cold starts. */
const COLD_MS = 20_000;
const ALLOWED_ORIGIN = 'http://allowed.example';
let assembly: ConfiguredAssembly | undefined;

/** The app synthesized with non-default limits, as `cdk synth` would with this environment. */
function synthesizeWithLimits(): string {
  assembly = synthesizeConfigured(
    'limits',
    {
      // One a second: a token interval far longer than the scheduling jitter of a
      // loaded machine, so exact counts hold however the burst's frames are spread.
      RATE_LIMIT_PER_SECOND: '1',
      MAX_CONNECTIONS_PER_USER: '3',
      MAX_ROOMS_PER_CONNECTION: '2',
      MAX_DATA_BYTES: '1024',
      ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    },
    inject('cdkOutdir'),
  );
  return assembly.outdir;
}

const codes = (replies: readonly Frame[]) => {
  const counts: Record<string, number> = {};
  for (const reply of replies) {
    const key = String(reply.type === 'error' ? reply.code : reply.type);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

// One engine is enough here: the limits live in the functions' configuration;
// the store behaviour under them is the same code the protocol suite runs on both.
describe('limits set at synthesis, on dynalite', () => {
  const local = useLocalStack('dynalite', {
    assembly: synthesizeWithLimits,
    afterStop: () => assembly?.remove(),
  });

  describe('RATE_LIMIT_PER_SECOND 1', () => {
    beforeAll(async () => {
      // Starts as many ping and send instances (not history ones) as the bursts
      // below need, so that a burst is judged as it arrives (see the BUG test).
      const room = fresh('warm');
      const warmer = await local.joined(fresh('warmer'), room);
      for (const frame of [{ action: 'ping' }, { action: 'send', room, data: 0 }]) {
        await Promise.all(Array.from({ length: 16 }, () => warmer.request(frame, COLD_MS)));
      }
      await warmer.close();
    });

    it('counts a burst on arrival, even while the function starts cold instances', async () => {
      // The first history requests of this stack: every instance starts cold.
      const room = fresh('cold');
      const a1 = await local.joined(fresh('alice'), room);
      // The join's token comes back: the bucket holds its burst of 2 again.
      await sleep(1_100);
      const burst = await Promise.all(
        Array.from({ length: 6 }, () => a1.request({ action: 'history', room }, COLD_MS)),
      );
      expect(codes(burst)).toEqual({ history: 2, rate_limited: 4 });
    }, 30_000);

    it('answers exactly 2 of 6 pings fired at once and rate_limited to the other 4, staying open', async () => {
      const a1 = await local.connect(fresh('alice'));
      const burst = await Promise.all(
        Array.from({ length: 6 }, () => a1.request({ action: 'ping' })),
      );
      expect(codes(burst)).toEqual({ pong: 2, rate_limited: 4 });
      for (const reply of burst.filter((frame) => frame.type === 'error')) {
        expect(reply).toEqual({
          type: 'error',
          id: expect.any(String),
          code: 'rate_limited',
          message: expect.any(String),
        });
      }
      expect(a1.isOpen).toBe(true);

      // Two intervals later the bucket is full again: its burst, and no more.
      await sleep(2_100);
      const refilled = await Promise.all(
        Array.from({ length: 3 }, () => a1.request({ action: 'ping' })),
      );
      expect(codes(refilled)).toEqual({ pong: 2, rate_limited: 1 });
      expect(a1.isOpen).toBe(true);
    });

    it('stores nothing and reaches nobody for a rate-limited send', async () => {
      const room = fresh('limited');
      const alice = fresh('alice');
      const observer = await local.joined(fresh('observer'), room);
      const a1 = await local.joined(alice, room);
      await observer.nextPresence({ joined: alice });
      // Long enough for the join's token to come back: the bucket is full again.
      await sleep(1_100);
      const replies = await Promise.all(
        Array.from({ length: 6 }, (_, index) => a1.request({ action: 'send', room, data: index })),
      );
      const acks = replies.filter((reply) => reply.type === 'ack');
      expect(replies.filter((reply) => reply.type === 'error').map((reply) => reply.code)).toEqual(
        Array(6 - acks.length).fill('rate_limited'),
      );
      expect(acks).toHaveLength(2);
      const seqs = acks.map((ack) => ack.seq as number).sort((x, y) => x - y);
      expect(seqs).toEqual([1, 2]);
      const delivered = await observer.take(2, (frame) => frame.type === 'message');
      expect(delivered.map((frame) => frame.seq as number).sort((x, y) => x - y)).toEqual(seqs);
      await local.settled();
      await observer.expectNothingReceived();

      await sleep(1_200);
      const stored = await observer.request({ action: 'history', room });
      expect((stored.messages as Frame[]).map((message) => message.seq)).toEqual(seqs);
    });

    it('answers unknown_action, bad_request and too_large, never rate_limited, to frames that have those faults too', async () => {
      const room = fresh('order');
      const a1 = await local.joined(fresh('alice'), room);
      const big = 'x'.repeat(2_000);
      const faulty: Array<[Frame, string]> = [
        [{ action: 'shout', room: 'not a room' }, 'unknown_action'],
        [{ action: 'send', room: 'not a room', data: big }, 'bad_request'],
        [{ action: 'send', room, data: big }, 'too_large'],
        [{ action: 'direct', to: 'anyone', data: big }, 'too_large'],
      ];
      // 15 pings drain the bucket; the faulty frames, sent behind them, mostly
      // arrive at an empty one, yet each still gets its own code.
      const pings = Array.from({ length: 15 }, () => a1.request({ action: 'ping' }));
      const probes = faulty.flatMap(([frame, code]) =>
        Array.from({ length: 3 }, () => a1.request(frame).then((reply) => [reply.code, code])),
      );
      const answered = await Promise.all(pings);
      expect(codes(answered).rate_limited).toBeGreaterThanOrEqual(4);
      for (const [got, wanted] of await Promise.all(probes)) expect(got).toBe(wanted);
      expect(a1.isOpen).toBe(true);
    });
  });

  describe('MAX_CONNECTIONS_PER_USER 3', () => {
    it('refuses the 4th connection of a user with a 4xx, accepts other users, and accepts again after a close', async () => {
      const capped = fresh('capped');
      const open = [
        await local.connect(capped),
        await local.connect(capped),
        await local.connect(capped),
      ];
      const status = await local.refusal(await local.token({ sub: capped }));
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);

      const other = await local.connect(fresh('other'));
      // The refused connection was never recorded.
      expect(await other.request({ action: 'direct', to: capped, data: 'hi' })).toMatchObject({
        delivered: 3,
      });
      for (const client of open) await client.nextOfType('direct');

      await (open[0] as (typeof open)[number]).close();
      const token = await local.token({ sub: capped });
      const again = await eventually(
        async () => {
          try {
            return await local.connectWith(token);
          } catch (error) {
            if (error instanceof HandshakeRefusedError) return undefined;
            throw error;
          }
        },
        3_000,
        'a connection after $disconnect',
        100,
      );
      expect((await again.request({ action: 'ping' })).type).toBe('pong');
      expect(await local.refusal(token)).toBe(status);
    });
  });

  describe('MAX_ROOMS_PER_CONNECTION 2', () => {
    it('refuses a 3rd room with forbidden and no presence, and accepts it after a leave', async () => {
      const [r1, r2, r3] = [fresh('r1'), fresh('r2'), fresh('r3')];
      const observer = await local.joined(fresh('observer'), r3);
      const alice = fresh('alice');
      const a1 = await local.connect(alice);
      expect((await a1.request({ action: 'join', room: r1 })).type).toBe('joined');
      expect((await a1.request({ action: 'join', room: r2 })).type).toBe('joined');
      // Each request below waits out the 1-a-second rate limit first.
      await sleep(1_100);

      expect(await a1.request({ action: 'join', room: r3 })).toMatchObject({
        type: 'error',
        code: 'forbidden',
      });
      await sleep(1_100);
      // Already in r2: joining it again is not a third room.
      expect((await a1.request({ action: 'join', room: r2 })).type).toBe('joined');
      await sleep(1_100);
      expect((await a1.request({ action: 'leave', room: r1 })).type).toBe('left');
      await sleep(1_100);
      expect(await a1.request({ action: 'join', room: r3 })).toMatchObject({
        type: 'joined',
        members: expect.arrayContaining([expect.objectContaining({ userId: alice })]),
      });
      // The observer heard one join: the accepted one, not the refused one.
      expect(await observer.nextPresence({ joined: alice })).toEqual({
        type: 'presence',
        room: r3,
        joined: [user(alice)],
        left: [],
      });
      await local.settled();
      await observer.expectNothingReceived();
    });
  });

  describe('ALLOWED_ORIGINS', () => {
    it('refuses a foreign Origin with 403 and records nothing', async () => {
      const sub = fresh('foreign');
      const token = await local.token({ sub });
      expect(await local.refusal(token, { origin: 'http://evil.example' })).toBe(403);
      const prober = await local.connect(fresh('prober'));
      expect(await prober.request({ action: 'direct', to: sub, data: 'x' })).toMatchObject({
        delivered: 0,
      });
    });

    it('accepts the allowed Origin and a request with no Origin', async () => {
      const withOrigin = await local.connect(fresh('browser'), { origin: ALLOWED_ORIGIN });
      expect((await withOrigin.request({ action: 'ping' })).type).toBe('pong');
      const withoutOrigin = await local.connect(fresh('script'));
      expect((await withoutOrigin.request({ action: 'ping' })).type).toBe('pong');
    });
  });

  describe('MAX_DATA_BYTES 1024', () => {
    it('accepts data of 1024 bytes and answers too_large to 1025, storing and sending nothing', async () => {
      const room = fresh('data');
      const bob = fresh('bob');
      const observer = await local.joined(bob, room);
      const alice = fresh('alice');
      const a1 = await local.joined(alice, room);
      await observer.nextPresence({ joined: alice });
      const over = 'x'.repeat(1_023);
      for (const request of [
        { action: 'send', room, data: over },
        { action: 'send', room, data: { text: 'é'.repeat(507) } },
        { action: 'direct', to: bob, data: over },
      ]) {
        expect((await a1.request(request)).code).toBe('too_large');
      }
      await local.settled();
      await observer.expectNothingReceived();
      const stored = await observer.request({ action: 'history', room });
      expect(stored.messages).toEqual([]);

      const exactly = 'x'.repeat(1_022);
      // too_large is answered before counting; the join's token must come back for two requests.
      await sleep(1_100);
      expect(await a1.request({ action: 'send', room, data: exactly })).toMatchObject({ seq: 1 });
      expect(await observer.nextOfType('message')).toMatchObject({ data: exactly });
      expect(await a1.request({ action: 'direct', to: bob, data: exactly })).toMatchObject({
        delivered: 1,
      });
    });
  });
});
