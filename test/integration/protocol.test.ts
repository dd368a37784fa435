import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeOnEachEngine,
  fresh,
  membersOf,
  registerSkippedEngineNotice,
  useLocalStack,
  user,
} from './support/local-stack-fixture.js';
import { mintToken, nowSeconds, unsignedToken } from './support/tokens.js';
import { eventually, type Frame, TestClient } from './support/ws-client.js';

const isError = (code: string) => (frame: Frame) => frame.type === 'error' && frame.code === code;

/** Asserts an error reply with its code, echoing the request's id. */
function expectError(reply: Frame, code: string): void {
  expect(reply).toEqual({
    type: 'error',
    id: expect.any(String),
    code,
    message: expect.any(String),
  });
}

describeOnEachEngine('the wire protocol over real sockets', (engine) => {
  const local = useLocalStack(engine);

  // A token accepted at connect thanks to the 30 s clock tolerance, expired for
  // requests ten seconds later. Opened before the other tests, so its expiry
  // passes while they run instead of being waited out by the test that uses it.
  // Ten seconds to connect and join: 3 s were once too few for a cold stack on
  // DynamoDB Local starting beside the other engine's.
  let expiring: Promise<{ client: TestClient; exp: number; sub: string; room: string }>;
  beforeAll(() => {
    expiring = (async () => {
      const sub = fresh('expiring');
      const room = fresh('expired');
      const exp = nowSeconds() - 20;
      const token = await mintToken(local.stack.secret, { sub, exp });
      const client = await TestClient.open(local.stack.url, token);
      expect((await client.request({ action: 'join', room })).type).toBe('joined');
      return { client, exp, sub, room };
    })();
    // Surfaces in the test that awaits it, not as an unhandled rejection here.
    expiring.catch(() => {});
  });
  afterAll(async () => {
    await (await expiring.catch(() => undefined))?.client.close();
  });

  /** Messages the room's history holds, seen by a member. */
  async function storedSeqs(member: TestClient, room: string): Promise<unknown[]> {
    const reply = await member.request({ action: 'history', room });
    expect(reply.type).toBe('history');
    return (reply.messages as Frame[]).map((message) => message.seq);
  }

  describe('join', () => {
    it('replies with each member once, names from the tokens, and the room seq', async () => {
      const room = fresh('join');
      const alice = fresh('alice');
      const bob = fresh('bob');
      const a1 = await local.connect({ sub: alice, name: 'Alice' });
      const first = await a1.request({ action: 'join', room });
      expect(first).toEqual({
        type: 'joined',
        id: expect.any(String),
        room,
        members: [user(alice, 'Alice')],
        seq: 0,
      });

      // No `name` claim: the name is the sub.
      const b1 = await local.connect(bob);
      const second = await b1.request({ action: 'join', room });
      expect(membersOf(second)).toEqual([user(alice, 'Alice'), user(bob)]);

      const a2 = await local.connect({ sub: alice, name: 'Alice' });
      const third = await a2.request({ action: 'join', room });
      expect(membersOf(third)).toEqual([user(alice, 'Alice'), user(bob)]);
      expect(third.seq).toBe(0);

      await a1.request({ action: 'send', room, data: 'one' });
      await a1.request({ action: 'send', room, data: 'two' });
      const late = await local.connect(fresh('carol'));
      expect((await late.request({ action: 'join', room })).seq).toBe(2);
    });

    it("announces a join to the room's other connections only on the user's first connection", async () => {
      const room = fresh('join');
      const bob = fresh('bob');
      const a1 = await local.joined({ sub: fresh('alice'), name: 'Alice' }, room);
      const b1 = await local.connect({ sub: bob, name: 'Bob' });
      await b1.request({ action: 'join', room });
      expect(await a1.nextPresence({ joined: bob })).toEqual({
        type: 'presence',
        room,
        joined: [user(bob, 'Bob')],
        left: [],
      });
      await local.settledPresence(b1);

      const b2 = await local.connect({ sub: bob, name: 'Bob' });
      expect((await b2.request({ action: 'join', room })).type).toBe('joined');
      await local.settled();
      await Promise.all([a1, b1, b2].map((client) => client.expectNothingReceived()));
    });

    it('joins again a room already joined, replying again and announcing nothing', async () => {
      const room = fresh('join');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1);

      const again = await b1.request({ action: 'join', room });
      expect(again.type).toBe('joined');
      expect(membersOf(again).map((member) => member.userId)).toContain(bob);
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b1.expectNothingReceived()]);
    });
  });

  describe('leave', () => {
    it("announces a leave only when the user's last connection in the room leaves", async () => {
      const room = fresh('leave');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined({ sub: bob, name: 'Bob' }, room);
      const b2 = await local.joined({ sub: bob, name: 'Bob' }, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1, b2);

      expect(await b1.request({ action: 'leave', room })).toEqual({
        type: 'left',
        id: expect.any(String),
        room,
      });
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b2.expectNothingReceived()]);
      // Its membership is gone: the connection may no longer send there.
      expectError(await b1.request({ action: 'send', room, data: 1 }), 'not_member');

      await b2.request({ action: 'leave', room });
      expect(await a1.nextPresence({ left: bob })).toEqual({
        type: 'presence',
        room,
        joined: [],
        left: [user(bob, 'Bob')],
      });
      await local.settled();
      await Promise.all([a1, b1, b2].map((client) => client.expectNothingReceived()));
    });

    it('leaves a room not joined successfully and announces nothing', async () => {
      const room = fresh('leave');
      const a1 = await local.joined(fresh('alice'), room);
      const stranger = await local.connect(fresh('bob'));
      expect(await stranger.request({ action: 'leave', room })).toEqual({
        type: 'left',
        id: expect.any(String),
        room,
      });
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), stranger.expectNothingReceived()]);
    });
  });

  describe('send', () => {
    it("acks with seqs 1, 2, 3 and delivers each to every connection in the room, the sender's included", async () => {
      const room = fresh('send');
      const alice = fresh('alice');
      const a1 = await local.joined({ sub: alice, name: 'Alice' }, room);
      const a2 = await local.joined({ sub: alice, name: 'Alice' }, room);
      const bob = fresh('bob');
      const b1 = await local.joined(bob, room);
      const outsider = await local.connect(fresh('carol'));
      await a1.nextPresence({ joined: bob });
      await a2.nextPresence({ joined: bob });
      await local.settledPresence(b1);

      const before = Date.now();
      const acks: Frame[] = [];
      for (const text of ['one', 'two', 'three']) {
        acks.push(await a1.request({ action: 'send', room, data: { text } }));
      }
      const after = Date.now();
      expect(acks).toEqual(
        [1, 2, 3].map((seq) => ({ type: 'ack', id: expect.any(String), room, seq })),
      );
      for (const member of [a1, a2, b1]) {
        const messages = await member.take(3, (frame) => frame.type === 'message');
        expect(messages).toEqual(
          ['one', 'two', 'three'].map((text, index) => ({
            type: 'message',
            room,
            seq: index + 1,
            from: user(alice, 'Alice'),
            data: { text },
            ts: expect.any(Number),
          })),
        );
        for (const message of messages) {
          expect(message.ts).toBeGreaterThanOrEqual(before);
          expect(message.ts).toBeLessThanOrEqual(after);
        }
      }
      await local.settled();
      await Promise.all([a1, a2, b1, outsider].map((client) => client.expectNothingReceived()));
    });

    it('delivers a send without an id but sends no ack', async () => {
      const room = fresh('send');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1);

      a1.send({ action: 'send', room, data: 'quiet' });
      expect(await b1.nextOfType('message')).toMatchObject({ seq: 1, data: 'quiet' });
      expect(await a1.nextOfType('message')).toMatchObject({ seq: 1, data: 'quiet' });
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b1.expectNothingReceived()]);
    });

    it('stores and delivers data exactly as sent: null, unicode, and nested deeper than 32 levels', async () => {
      const room = fresh('send');
      const a1 = await local.joined(fresh('alice'), room);
      let deep: unknown = 'bottom';
      for (let level = 0; level < 40; level++) deep = { level, next: [deep] };
      const values = [null, 'héllo 👋 世界', deep, 0, false, [1, 'two', { three: 3 }]];
      for (const data of values) {
        expect((await a1.request({ action: 'send', room, data })).type).toBe('ack');
      }
      const live = await a1.take(values.length, (frame) => frame.type === 'message');
      expect(live.map((message) => message.data)).toEqual(values);
      const stored = await a1.request({ action: 'history', room });
      expect((stored.messages as Frame[]).map((message) => message.data)).toEqual(values);
    });
  });

  describe('typing', () => {
    it("reaches the room's other connections, the same user's included, never the sender, and is never stored", async () => {
      const room = fresh('typing');
      const alice = fresh('alice');
      const a1 = await local.joined({ sub: alice, name: 'Alice' }, room);
      const a2 = await local.joined({ sub: alice, name: 'Alice' }, room);
      const bob = fresh('bob');
      const b1 = await local.joined(bob, room);
      const outsider = await local.connect(fresh('carol'));
      await a1.nextPresence({ joined: bob });
      await a2.nextPresence({ joined: bob });
      await local.settledPresence(b1);

      a1.send({ action: 'typing', room, id: 'typing-1' });
      const expected = { type: 'typing', room, user: user(alice, 'Alice') };
      expect(await a2.nextOfType('typing')).toEqual(expected);
      expect(await b1.nextOfType('typing')).toEqual(expected);
      await local.settled();
      await Promise.all([a1, a2, b1, outsider].map((client) => client.expectNothingReceived()));

      expect(await storedSeqs(a1, room)).toEqual([]);
      const late = await local.connect(fresh('dave'));
      expect((await late.request({ action: 'join', room })).seq).toBe(0);
    });
  });

  describe('direct', () => {
    it('delivers to every connection of the recipient and acks how many it reached', async () => {
      const alice = fresh('alice');
      const bob = fresh('bob');
      const a1 = await local.connect({ sub: alice, name: 'Alice' });
      const b1 = await local.connect(bob);
      const b2 = await local.connect(bob);
      const outsider = await local.connect(fresh('carol'));

      const before = Date.now();
      const ack = await a1.request({ action: 'direct', to: bob, data: { secret: 42 } });
      expect(ack).toEqual({ type: 'ack', id: expect.any(String), delivered: 2 });
      for (const recipient of [b1, b2]) {
        const frame = await recipient.nextOfType('direct');
        expect(frame).toEqual({
          type: 'direct',
          from: user(alice, 'Alice'),
          data: { secret: 42 },
          ts: expect.any(Number),
        });
        expect(frame.ts).toBeGreaterThanOrEqual(before);
      }
      await local.settled();
      await Promise.all([a1, b1, b2, outsider].map((client) => client.expectNothingReceived()));
    });

    it("to oneself reaches all of one's own connections", async () => {
      const alice = fresh('alice');
      const a1 = await local.connect(alice);
      const a2 = await local.connect(alice);
      expect(await a1.request({ action: 'direct', to: alice, data: 'note' })).toMatchObject({
        type: 'ack',
        delivered: 2,
      });
      expect(await a1.nextOfType('direct')).toMatchObject({ from: user(alice), data: 'note' });
      expect(await a2.nextOfType('direct')).toMatchObject({ from: user(alice), data: 'note' });
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), a2.expectNothingReceived()]);
    });

    it('to a user with no open connection succeeds with delivered 0', async () => {
      const a1 = await local.connect(fresh('alice'));
      expect(await a1.request({ action: 'direct', to: fresh('nobody'), data: 'hello?' })).toEqual({
        type: 'ack',
        id: expect.any(String),
        delivered: 0,
      });

      // A user whose only connection closed is reached no more once $disconnect ran.
      const bob = fresh('bob');
      const b1 = await local.connect(bob);
      await b1.close();
      await eventually(
        async () => {
          const ack = await a1.request({ action: 'direct', to: bob, data: 'gone?' });
          return ack.delivered === 0 ? ack : undefined;
        },
        3_000,
        "bob's $disconnect",
        200,
      );
    });
  });

  describe('history', () => {
    it('returns stored messages after a seq, ascending, paged by limit with hasMore', async () => {
      const room = fresh('history');
      const a1 = await local.joined(fresh('alice'), room);
      for (let i = 1; i <= 5; i++) await a1.request({ action: 'send', room, data: `m${i}` });

      const page = async (after: number, limit: number) => {
        const reply = await a1.request({ action: 'history', room, after, limit });
        expect(reply).toMatchObject({ type: 'history', room });
        return {
          seqs: (reply.messages as Frame[]).map((message) => message.seq),
          hasMore: reply.hasMore,
        };
      };
      expect(await page(0, 2)).toEqual({ seqs: [1, 2], hasMore: true });
      expect(await page(2, 2)).toEqual({ seqs: [3, 4], hasMore: true });
      expect(await page(4, 2)).toEqual({ seqs: [5], hasMore: false });
      expect(await page(3, 2)).toEqual({ seqs: [4, 5], hasMore: false });
      expect(await page(5, 100)).toEqual({ seqs: [], hasMore: false });

      const all = await a1.request({ action: 'history', room, after: 1 });
      expect(all).toEqual({
        type: 'history',
        id: expect.any(String),
        room,
        hasMore: false,
        messages: [2, 3, 4, 5].map((seq) => ({
          type: 'message',
          room,
          seq,
          from: expect.any(Object),
          data: `m${seq}`,
          ts: expect.any(Number),
        })),
      });
    });

    it('defaults to after 0 and a limit of 50', async () => {
      const room = fresh('history');
      const loader = fresh('loader');
      // 51 sends over three connections: each stays inside its rate-limit burst.
      const senders = [
        await local.joined(loader, room),
        await local.joined(loader, room),
        await local.joined(loader, room),
      ];
      await Promise.all(
        senders.map(async (sender, index) => {
          for (let i = 0; i < 17; i++) {
            const ack = await sender.request({ action: 'send', room, data: { index, i } });
            expect(ack.type).toBe('ack');
          }
        }),
      );
      const reader = senders[0] as TestClient;
      const first = await reader.request({ action: 'history', room });
      const seqs = (first.messages as Frame[]).map((message) => message.seq);
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
      expect(first.hasMore).toBe(true);
      const rest = await reader.request({ action: 'history', room, after: 50 });
      expect((rest.messages as Frame[]).map((message) => message.seq)).toEqual([51]);
      expect(rest.hasMore).toBe(false);
    });

    it('after a reconnect, join and history after the last seq seen recover exactly the missed messages', async () => {
      const room = fresh('resume');
      const reader = fresh('reader');
      const writer = await local.joined(fresh('writer'), room);
      const before = await local.joined(reader, room);
      await writer.nextPresence({ joined: reader });
      for (const text of ['a', 'b']) await writer.request({ action: 'send', room, data: text });
      const seen = await before.take(2, (frame) => frame.type === 'message');
      const lastSeen = (seen.at(-1) as Frame).seq as number;
      expect(lastSeen).toBe(2);
      await before.close();
      await writer.nextPresence({ left: reader });

      const missed = ['c', 'd', 'e', 'f'];
      for (const text of missed) await writer.request({ action: 'send', room, data: text });

      const after = await local.connect(reader);
      const joined = await after.request({ action: 'join', room });
      expect(joined.seq).toBe(6);
      const recovered = await after.request({ action: 'history', room, after: lastSeen });
      expect(recovered.messages).toEqual(
        missed.map((data, index) => ({
          type: 'message',
          room,
          seq: lastSeen + index + 1,
          from: expect.any(Object),
          data,
          ts: expect.any(Number),
        })),
      );
      expect(recovered.hasMore).toBe(false);
      await local.settled();
      await after.expectNothingReceived();
    });
  });

  describe('auth', () => {
    it('renews with a token of the same sub, replying its exp', async () => {
      const alice = fresh('alice');
      const a1 = await local.connect(alice);
      const renewal = await local.token({ sub: alice, ttl: 7200 });
      expect(await a1.request({ action: 'auth', token: renewal })).toEqual({
        type: 'authed',
        id: expect.any(String),
        exp: decodeJwt(renewal).exp,
      });
      expect((await a1.request({ action: 'ping' })).type).toBe('pong');
    });

    it('refuses a valid token of another sub with forbidden, keeping the identity', async () => {
      const room = fresh('auth');
      const alice = fresh('alice');
      const a1 = await local.joined({ sub: alice, name: 'Alice' }, room);
      const other = await local.token({ sub: fresh('mallory'), name: 'Mallory' });
      expectError(await a1.request({ action: 'auth', token: other }), 'forbidden');

      await a1.request({ action: 'send', room, data: 'still me' });
      expect(await a1.nextOfType('message')).toMatchObject({ from: user(alice, 'Alice') });
    });

    it('refuses an invalid token with unauthorized: garbage, bad signature, expired, alg none', async () => {
      const alice = fresh('alice');
      const a1 = await local.connect(alice);
      const secret = local.stack.secret;
      const tokens = [
        'garbage',
        await mintToken('not-the-secret', { sub: alice }),
        await mintToken(secret, { sub: alice, exp: nowSeconds() - 120 }),
        unsignedToken(alice),
      ];
      for (const token of tokens) {
        expectError(await a1.request({ action: 'auth', token }), 'unauthorized');
      }
      expect((await a1.request({ action: 'ping' })).type).toBe('pong');
    });

    it('answers token_expired to every request but auth once the token has expired, until auth renews it', async () => {
      const { client: a1, exp, sub: alice, room } = await expiring;
      const watcher = fresh('observer');
      const observer = await local.joined(watcher, room);
      await a1.nextPresence({ joined: watcher });
      await local.settledPresence(observer);
      await eventually(() => (nowSeconds() > exp + 31 ? true : undefined), 15_000, 'expiry', 100);

      for (const request of [
        { action: 'ping' },
        { action: 'send', room, data: 'late' },
        { action: 'typing', room },
        { action: 'history', room },
        { action: 'join', room: fresh('other') },
        { action: 'leave', room },
        { action: 'direct', to: alice, data: 'me' },
      ]) {
        expectError(await a1.request(request), 'token_expired');
      }
      // too_large comes before token_expired.
      expectError(
        await a1.request({ action: 'send', room, data: 'x'.repeat(20_000) }),
        'too_large',
      );
      // A refused renewal changes nothing.
      const other = await local.token({ sub: fresh('mallory') });
      expectError(await a1.request({ action: 'auth', token: other }), 'forbidden');
      expectError(await a1.request({ action: 'auth', token: 'garbage' }), 'unauthorized');
      expectError(await a1.request({ action: 'ping' }), 'token_expired');
      await local.settled();
      await Promise.all([observer.expectNothingReceived(), a1.expectNothingReceived()]);

      const renewal = await local.token({ sub: alice });
      expect((await a1.request({ action: 'auth', token: renewal })).type).toBe('authed');
      expect((await a1.request({ action: 'ping' })).type).toBe('pong');
      // The refused send took no seq and stored nothing.
      expect(await a1.request({ action: 'send', room, data: 'now' })).toMatchObject({ seq: 1 });
      expect(await observer.nextOfType('message')).toMatchObject({ seq: 1, data: 'now' });
      expect(await storedSeqs(observer, room)).toEqual([1]);
    });
  });

  describe('ping', () => {
    it("answers pong with the request's id and the server's time", async () => {
      const a1 = await local.connect(fresh('alice'));
      const before = Date.now();
      const pong = await a1.request({ action: 'ping' });
      expect(pong).toEqual({ type: 'pong', id: expect.any(String), ts: expect.any(Number) });
      expect(pong.ts).toBeGreaterThanOrEqual(before);
      expect(pong.ts).toBeLessThanOrEqual(Date.now());

      a1.send({ action: 'ping' });
      expect(await a1.nextOfType('pong')).toEqual({ type: 'pong', ts: expect.any(Number) });
    });
  });

  describe('errors', () => {
    it('answers bad_request to a frame that is not JSON or not an object, echoing no id', async () => {
      const room = fresh('bad');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1);
      for (const text of [
        'not json',
        '{"action":"ping"',
        '[1,2]',
        '"ping"',
        '42',
        'null',
        'true',
      ]) {
        a1.sendRaw(text);
        expect(await a1.next(isError('bad_request'), undefined, `bad_request for ${text}`)).toEqual(
          {
            type: 'error',
            code: 'bad_request',
            message: expect.any(String),
          },
        );
      }
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b1.expectNothingReceived()]);
    });

    it('answers bad_request to an invalid id, echoing none', async () => {
      const a1 = await local.connect(fresh('alice'));
      for (const id of ['', 'x'.repeat(65), 7, null, { id: 'x' }]) {
        a1.send({ action: 'ping', id });
        expect(await a1.next(isError('bad_request'))).toEqual({
          type: 'error',
          code: 'bad_request',
          message: expect.any(String),
        });
      }
      // 64 characters is still an id.
      a1.send({ action: 'ping', id: 'y'.repeat(64) });
      expect(await a1.nextOfType('pong', { id: 'y'.repeat(64) })).toBeDefined();
      await a1.expectNothingReceived();
    });

    it('answers bad_request to an invalid field, storing nothing and reaching nobody', async () => {
      const room = fresh('bad');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1);
      const invalid: Frame[] = [
        { action: 'join', room: 'has space' },
        { action: 'join', room: '' },
        { action: 'join', room: 'r'.repeat(65) },
        { action: 'join' },
        { action: 'join', room: 7 },
        { action: 'leave', room: 'no/slash' },
        { action: 'send', room: 'bad room', data: 'x' },
        { action: 'send', room },
        { action: 'typing', room: 'é' },
        { action: 'direct', to: '', data: 'x' },
        { action: 'direct', to: 'u'.repeat(129), data: 'x' },
        { action: 'direct', to: 'someone' },
        { action: 'history', room, limit: 0 },
        { action: 'history', room, limit: 101 },
        { action: 'history', room, limit: 1.5 },
        { action: 'history', room, limit: '5' },
        { action: 'history', room, after: -1 },
        { action: 'history', room, after: '3' },
        { action: 'auth', token: '' },
        { action: 'auth' },
      ];
      for (const frame of invalid) {
        const reply = await a1.request(frame);
        expect(reply, JSON.stringify(frame)).toEqual({
          type: 'error',
          id: expect.any(String),
          code: 'bad_request',
          message: expect.any(String),
        });
      }
      // A room name of 64 allowed characters is valid.
      const longest = `${'A'.repeat(30)}_.:-${'9'.repeat(30)}`;
      expect((await a1.request({ action: 'join', room: longest })).type).toBe('joined');
      expect((await a1.request({ action: 'history', room, limit: 100 })).type).toBe('history');

      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b1.expectNothingReceived()]);
      expect(await storedSeqs(b1, room)).toEqual([]);
      expect(await a1.request({ action: 'send', room, data: 'first' })).toMatchObject({ seq: 1 });
    });

    it('answers unknown_action to a missing, non-string, unknown or wrongly cased action', async () => {
      const room = fresh('unknown');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1);
      const frames: Frame[] = [
        { room },
        { action: 5, room },
        { action: null },
        { action: ['join'], room },
        { action: 'shout', room, data: 'x' },
        { action: 'JOIN', room },
        { action: 'Send', room, data: 'x' },
        { action: 'join ', room },
        { action: '$default' },
        { action: '$connect' },
        { action: '$disconnect' },
      ];
      for (const frame of frames) {
        expect(await a1.request(frame), JSON.stringify(frame)).toEqual({
          type: 'error',
          id: expect.any(String),
          code: 'unknown_action',
          message: expect.any(String),
        });
      }
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b1.expectNothingReceived()]);
      expect(await storedSeqs(b1, room)).toEqual([]);
    });

    it("answers forbidden to a room the token's rooms claim does not allow, joining nothing", async () => {
      const room = fresh('open');
      const watcher = fresh('observer');
      const observer = await local.joined(watcher, room);
      const docs = await local.connect({ sub: fresh('writer'), rooms: 'doc:*' });
      expect((await docs.request({ action: 'join', room: 'doc:' })).type).toBe('joined');
      expect((await docs.request({ action: 'join', room: 'doc:plan' })).type).toBe('joined');
      expectError(await docs.request({ action: 'join', room }), 'forbidden');
      expectError(await docs.request({ action: 'join', room: 'doc' }), 'forbidden');
      // forbidden comes before not_member.
      expectError(await docs.request({ action: 'send', room, data: 'x' }), 'forbidden');
      expectError(await docs.request({ action: 'typing', room }), 'forbidden');
      expectError(await docs.request({ action: 'history', room }), 'forbidden');

      const none = await local.connect({ sub: fresh('nobody'), rooms: '' });
      expectError(await none.request({ action: 'join', room: 'doc:plan' }), 'forbidden');

      await local.settled();
      await Promise.all([observer, docs, none].map((client) => client.expectNothingReceived()));
      const members = await observer.request({ action: 'join', room });
      expect(membersOf(members)).toEqual([user(watcher)]);
      expect(members.seq).toBe(0);
    });

    it('answers not_member to send, typing and history in a room not joined, reaching nobody', async () => {
      const room = fresh('members');
      const member = await local.joined(fresh('member'), room);
      const stranger = await local.connect(fresh('stranger'));
      expectError(await stranger.request({ action: 'send', room, data: 'psst' }), 'not_member');
      expectError(await stranger.request({ action: 'typing', room }), 'not_member');
      expectError(await stranger.request({ action: 'history', room }), 'not_member');
      await local.settled();
      await Promise.all([member.expectNothingReceived(), stranger.expectNothingReceived()]);
      expect(await storedSeqs(member, room)).toEqual([]);
      expect(await member.request({ action: 'send', room, data: 'hi' })).toMatchObject({ seq: 1 });
    });

    it('answers too_large to data over MAX_DATA_BYTES (16384), in UTF-8 bytes, storing nothing', async () => {
      const room = fresh('large');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      await local.settledPresence(b1);
      // A JSON string's serialization adds its two quotes.
      const exactly = 'x'.repeat(16_382);
      const over = 'x'.repeat(16_383);
      const overInBytes = 'é'.repeat(8_192);
      expectError(await a1.request({ action: 'send', room, data: over }), 'too_large');
      expectError(await a1.request({ action: 'send', room, data: overInBytes }), 'too_large');
      expectError(await a1.request({ action: 'direct', to: bob, data: over }), 'too_large');
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), b1.expectNothingReceived()]);
      expect(await storedSeqs(b1, room)).toEqual([]);

      expect(await a1.request({ action: 'send', room, data: exactly })).toMatchObject({ seq: 1 });
      expect(await b1.nextOfType('message')).toMatchObject({ seq: 1, data: exactly });
      expect(
        await a1.request({ action: 'direct', to: bob, data: 'é'.repeat(8_191) }),
      ).toMatchObject({ delivered: 1 });
    });

    it('gives the first code of the order when several apply', async () => {
      const room = fresh('order');
      const restricted = await local.connect({ sub: fresh('alice'), rooms: 'mine' });
      const big = 'x'.repeat(20_000);
      const cases: Array<[Frame, string]> = [
        // unknown_action before bad_request
        [{ action: 'shout', room: 'not a room' }, 'unknown_action'],
        [{ room: 'not a room', data: big }, 'unknown_action'],
        [{ action: 'JOIN', limit: -1 }, 'unknown_action'],
        // bad_request before too_large
        [{ action: 'send', room: 'not a room', data: big }, 'bad_request'],
        // too_large before forbidden and not_member
        [{ action: 'send', room, data: big }, 'too_large'],
        // forbidden before not_member
        [{ action: 'send', room, data: 'x' }, 'forbidden'],
        [{ action: 'history', room }, 'forbidden'],
      ];
      for (const [frame, code] of cases) {
        expect((await restricted.request(frame)).code, JSON.stringify(frame)).toBe(code);
      }
      // An invalid id does not hide an unknown action.
      restricted.send({ action: 'shout', id: 5 });
      expect(await restricted.next(isError('unknown_action'))).not.toHaveProperty('id');
      await restricted.expectNothingReceived();
    });
  });

  describe('presence across connections', () => {
    it("announces a leave when the user's last connection closes, not before", async () => {
      const room = fresh('presence');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined({ sub: bob, name: 'Bob' }, room);
      const b2 = await local.joined({ sub: bob, name: 'Bob' }, room);
      await a1.nextPresence({ joined: bob });

      await b1.close();
      await local.settled();
      await a1.expectNothingReceived();
      await b2.close();
      expect(await a1.nextPresence({ left: bob })).toEqual({
        type: 'presence',
        room,
        joined: [],
        left: [user(bob, 'Bob')],
      });
      await local.settled();
      await a1.expectNothingReceived();
      const members = await a1.request({ action: 'join', room });
      expect(membersOf(members).map((member) => member.userId)).not.toContain(bob);
    });

    it('announces the leave in every room the closing connection had joined', async () => {
      const rooms = [fresh('presence'), fresh('presence')];
      const bob = fresh('bob');
      const watchers = await Promise.all(rooms.map((room) => local.joined(fresh('alice'), room)));
      const b1 = await local.connect(bob);
      for (const room of rooms) await b1.request({ action: 'join', room });
      for (const watcher of watchers) await watcher.nextPresence({ joined: bob });
      await b1.close();
      for (const [index, watcher] of watchers.entries()) {
        expect(await watcher.nextPresence({ left: bob })).toEqual({
          type: 'presence',
          room: rooms[index],
          joined: [],
          left: [user(bob)],
        });
      }
      await local.settled();
      await Promise.all(watchers.map((watcher) => watcher.expectNothingReceived()));
    });
  });
});

registerSkippedEngineNotice(it, 'the wire protocol suite');
