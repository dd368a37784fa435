import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import type { WebSocketServer } from 'ws';
import { LOCAL_REGION } from '../../local/assembly/stack-model.js';
import type { WebSocketGateway } from '../../local/gateway/websocket-gateway.js';
import {
  describeOnEachEngine,
  fresh,
  membersOf,
  registerSkippedEngineNotice,
  useLocalStack,
  user,
} from './support/local-stack-fixture.js';
import { mintToken, nowSeconds, unsignedToken } from './support/tokens.js';
import { eventually, type TestClient, WAIT_MS, within } from './support/ws-client.js';

/**
 * Makes a connection vanish the way API Gateway can leave one behind: the
 * socket is gone, so posts to it answer 410, but `$disconnect` (best-effort in
 * AWS) never reached the backend, whose records still list the connection.
 * The local gateway fires `$disconnect` from the server socket's 'close'
 * listener, so the connection is dropped from its table and that listener
 * removed before the server side of the socket is terminated.
 */
function loseWithoutDisconnect(gateway: WebSocketGateway, connectionId: string): void {
  const connection = gateway.connections.get(connectionId);
  const socket = connection?.socket;
  if (connection === undefined || socket === undefined) {
    throw new Error(`no open connection ${connectionId}`);
  }
  for (const timer of connection.timers) clearTimeout(timer);
  connection.state = 'closed';
  gateway.connections.delete(connectionId);
  socket.removeAllListeners('close');
  socket.terminate();
}

/**
 * Holds back the next upgrade the gateway has accepted (its `$connect`
 * integration has answered 200, so the connection is recorded) until
 * `release`: meanwhile the connection stays `connecting`, and posts to it
 * answer 410, as API Gateway answers them until the handshake has completed.
 * This widens a window that is real but a few milliseconds long.
 */
function holdNextUpgrade(gateway: WebSocketGateway): {
  accepted: Promise<void>;
  release: () => void;
} {
  const server = (gateway as unknown as { server: WebSocketServer }).server;
  const original = server.handleUpgrade;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const accepted = new Promise<void>((resolve) => {
    server.handleUpgrade = (...args: Parameters<WebSocketServer['handleUpgrade']>) => {
      server.handleUpgrade = original;
      resolve();
      void released.then(() => original.apply(server, args));
    };
  });
  return { accepted, release };
}

describeOnEachEngine('connections over real sockets', (engine) => {
  const local = useLocalStack(engine);

  /** Runs the prune function on `event` through Lambda's Invoke API, as the functions invoke it. */
  async function invokePrune(event: unknown): Promise<void> {
    const client = new LambdaClient({
      endpoint: local.stack.lambdaEndpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const result = await client.send(
        new InvokeCommand({ FunctionName: 'PruneHandler', Payload: JSON.stringify(event) }),
      );
      expect(result.FunctionError).toBeUndefined();
    } finally {
      client.destroy();
    }
  }

  /** Whether a direct to `userId` reaches any connection, asked by a fresh client. */
  async function deliveredTo(userId: string): Promise<unknown> {
    const prober = await local.connect(fresh('prober'));
    const ack = await prober.request({ action: 'direct', to: userId, data: 'anyone?' });
    await prober.close();
    return ack.delivered;
  }

  describe('handshake refusals', () => {
    const cases: Array<[string, (secret: string, sub: string) => Promise<string | undefined>]> = [
      ['no token', async () => undefined],
      ['an empty token', async () => ''],
      ['a token that is no JWT', async () => 'garbage'],
      ['an expired token', (secret, sub) => mintToken(secret, { sub, exp: nowSeconds() - 60 })],
      ['a token with a wrong signature', (_, sub) => mintToken('not-the-local-secret', { sub })],
      ['a token signed with alg none', async (_, sub) => unsignedToken(sub)],
      [
        'a token not yet valid',
        (secret, sub) => mintToken(secret, { sub, nbf: nowSeconds() + 120 }),
      ],
      ['a token without sub', (secret) => mintToken(secret, {})],
      [
        'a token whose sub has 129 characters',
        (secret) => mintToken(secret, { sub: 's'.repeat(129) }),
      ],
    ];

    it.each(cases)('refuses %s with 401 and records no connection', async (_, makeToken) => {
      const sub = fresh('refused');
      const token = await makeToken(local.stack.secret, sub);
      const before = new Set(local.stack.gateway.connections.keys());
      expect(await local.refusal(token)).toBe(401);
      const added = [...local.stack.gateway.connections.keys()].filter((id) => !before.has(id));
      expect(added).toEqual([]);
      expect(await deliveredTo(sub)).toBe(0);
    });
  });

  describe('pruning', () => {
    it('prunes a connection whose $disconnect never arrived at the next fan-out to its room', async () => {
      const room = fresh('prune');
      const bob = fresh('bob');
      const alice = fresh('alice');
      const a1 = await local.joined({ sub: alice, name: 'Alice' }, room);
      const gone = await local.joined({ sub: bob, name: 'Bob' }, room);
      const c1 = await local.joined(fresh('carol'), room);
      // Every presence frame of the joins is out: none is left to meet the lost connection.
      await local.settledPresence(a1, gone, c1);

      loseWithoutDisconnect(local.stack.gateway, local.connectionIdOf(gone));
      expect((await gone.closed).code).toBe(1006);
      // Nothing has told the backend: the room still lists bob (a join again
      // by a1 changes no membership, so no presence frame fans out to prune him).
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), c1.expectNothingReceived()]);
      const stale = await a1.request({ action: 'join', room });
      expect(membersOf(stale).map((member) => member.userId)).toContain(bob);

      expect(await a1.request({ action: 'send', room, data: 'still there?' })).toMatchObject({
        type: 'ack',
        seq: 1,
      });
      for (const member of [a1, c1]) {
        expect(await member.nextOfType('message')).toMatchObject({ seq: 1, data: 'still there?' });
        expect(await member.nextPresence({ left: bob })).toEqual({
          type: 'presence',
          room,
          joined: [],
          left: [user(bob, 'Bob')],
        });
      }
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), c1.expectNothingReceived()]);
      const members = await a1.request({ action: 'join', room });
      expect(membersOf(members).map((member) => member.userId)).not.toContain(bob);
      expect(await deliveredTo(bob)).toBe(0);
    });

    it('prunes a connection whose $disconnect never arrived at a direct to its user, announcing the leave in its rooms', async () => {
      const room = fresh('prune');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const gone = await local.joined({ sub: bob, name: 'Bob' }, room);
      await a1.nextPresence({ joined: bob });
      loseWithoutDisconnect(local.stack.gateway, local.connectionIdOf(gone));

      const sender = await local.connect(fresh('carol'));
      expect(await sender.request({ action: 'direct', to: bob, data: 'there?' })).toMatchObject({
        type: 'ack',
        delivered: 0,
      });
      expect(await a1.nextPresence({ left: bob })).toEqual({
        type: 'presence',
        room,
        joined: [],
        left: [user(bob, 'Bob')],
      });
      const members = await a1.request({ action: 'join', room });
      expect(membersOf(members).map((member) => member.userId)).not.toContain(bob);
      await local.settled();
      await Promise.all([a1.expectNothingReceived(), sender.expectNothingReceived()]);
    });
  });

  describe('a connection still completing its handshake', () => {
    it('is not pruned by a direct to its user after its $connect recorded it, however late the prune runs', async () => {
      const bob = fresh('bob');
      const sender = await local.connect(fresh('alice'));
      const hold = holdNextUpgrade(local.stack.gateway);
      const opening = local.connect(bob);
      await within(hold.accepted, WAIT_MS, "bob's $connect");
      // Not open yet: nothing to deliver to, and nothing gone either.
      expect(await sender.request({ action: 'direct', to: bob, data: 'early' })).toMatchObject({
        delivered: 0,
      });
      // The prune that 410 handed over has run, and left the record.
      await local.stack.streamsIdle();
      const handedOverBy = Date.now();
      hold.release();
      const b1 = await opening;
      expect(await b1.request({ action: 'ping' })).toEqual({
        type: 'pong',
        id: expect.any(String),
        ts: expect.any(Number),
      });

      // The same hand-over run again now, as a prune queued behind others
      // would: bob has opened and made a request since, after that 410.
      await invokePrune({
        gone: [
          {
            connectionId: local.connectionIdOf(b1),
            userId: bob,
            name: bob,
            postedAt: handedOverBy,
          },
        ],
      });

      expect(await sender.request({ action: 'direct', to: bob, data: 'now' })).toMatchObject({
        delivered: 1,
      });
      expect(await b1.nextOfType('direct')).toMatchObject({ data: 'now' });
    });
  });

  describe('the management API', () => {
    const connectionUrl = (id: string) =>
      `${local.stack.callbackUrl}/@connections/${encodeURIComponent(id)}`;

    it('closes a connection on DELETE, and the room sees its user leave', async () => {
      const room = fresh('delete');
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      const id = local.connectionIdOf(b1);

      const deleted = await fetch(connectionUrl(id), { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      expect((await b1.closed).code).toBe(1000);
      expect(await a1.nextPresence({ left: bob })).toEqual({
        type: 'presence',
        room,
        joined: [],
        left: [user(bob)],
      });

      const again = await fetch(connectionUrl(id), { method: 'DELETE' });
      expect(again.status).toBe(410);
      expect(again.headers.get('x-amzn-ErrorType')).toBe('GoneException');
      expect(await again.json()).toEqual({ message: expect.any(String) });
      expect(await deliveredTo(bob)).toBe(0);
      await local.settled();
      await a1.expectNothingReceived();
    });

    it('posts to a connection, describes it, and answers 410 for one unknown', async () => {
      const a1 = await local.connect(fresh('alice'));
      const id = local.connectionIdOf(a1);
      const frame = { type: 'direct', from: user('system'), data: 'posted', ts: 1 };
      const posted = await fetch(connectionUrl(id), {
        method: 'POST',
        body: JSON.stringify(frame),
      });
      expect(posted.status).toBe(200);
      expect(await a1.nextOfType('direct')).toEqual(frame);

      const described = await fetch(connectionUrl(id));
      expect(described.status).toBe(200);
      // GetConnection's wire format, which the SDK maps to ConnectedAt and so on.
      expect(await described.json()).toEqual({
        connectedAt: expect.any(String),
        lastActiveAt: expect.any(String),
        identity: { sourceIp: '127.0.0.1', userAgent: a1.tag },
      });

      const unknown = await fetch(connectionUrl('bm8tc3VjaC1jb25uPQ=='), {
        method: 'POST',
        body: '{}',
      });
      expect(unknown.status).toBe(410);
      expect(unknown.headers.get('x-amzn-ErrorType')).toBe('GoneException');
      await a1.expectNothingReceived();
    });
  });

  describe('frames the gateway refuses', () => {
    async function pair(room: string): Promise<[TestClient, TestClient, string]> {
      const bob = fresh('bob');
      const a1 = await local.joined(fresh('alice'), room);
      const b1 = await local.joined(bob, room);
      await a1.nextPresence({ joined: bob });
      // b1 may have heard of a1's user too: not what these tests are about.
      await local.settledPresence(b1);
      return [a1, b1, bob];
    }

    it('closes the connection with 1003 on a binary frame, and the room sees the user leave', async () => {
      const room = fresh('binary');
      const [a1, b1, bob] = await pair(room);
      b1.socket.send(Buffer.from(JSON.stringify({ action: 'ping' })), { binary: true });
      expect((await b1.closed).code).toBe(1003);
      expect(await a1.nextPresence({ left: bob })).toEqual({
        type: 'presence',
        room,
        joined: [],
        left: [user(bob)],
      });
      await b1.expectNothingReceived();
    });

    it('accepts a frame of 32768 bytes and closes the connection with 1009 on a bigger one', async () => {
      const room = fresh('frame');
      const [a1, b1, bob] = await pair(room);
      const envelope = JSON.stringify({ action: 'ping', id: 'big', pad: '' });
      const pad = 'p'.repeat(32_768 - Buffer.byteLength(envelope));
      b1.sendRaw(JSON.stringify({ action: 'ping', id: 'big', pad }));
      expect(await b1.nextOfType('pong', { id: 'big' })).toBeDefined();

      b1.sendRaw(JSON.stringify({ action: 'ping', id: 'bigger', pad: `${pad}p` }));
      expect((await b1.closed).code).toBe(1009);
      expect(await a1.nextPresence({ left: bob })).toEqual({
        type: 'presence',
        room,
        joined: [],
        left: [user(bob)],
      });
      await b1.expectNothingReceived();
    });
  });

  it('keeps delivering to the open connections while one of them is being dropped', async () => {
    const room = fresh('drop');
    const bob = fresh('bob');
    const a1 = await local.joined(fresh('alice'), room);
    const b1 = await local.joined(bob, room);
    const b2 = await local.joined(bob, room);
    await a1.nextPresence({ joined: bob });
    await local.settledPresence(b1, b2);
    b1.kill();
    expect(await a1.request({ action: 'send', room, data: 'hello' })).toMatchObject({ seq: 1 });
    expect(await a1.nextOfType('message')).toMatchObject({ seq: 1 });
    expect(await b2.nextOfType('message')).toMatchObject({ seq: 1 });
    // bob still has b2 in the room: no leave, whichever of $disconnect and pruning removed b1.
    await eventually(
      async () => ((await deliveredTo(bob)) === 1 ? true : undefined),
      3_000,
      "b1's $disconnect",
      100,
    );
    await local.settled();
    await Promise.all([
      a1.expectNothingReceived(),
      b2.expectNothingReceived((frame) => frame.type !== 'direct'),
    ]);
  });
});

registerSkippedEngineNotice(it, 'the connections suite');
