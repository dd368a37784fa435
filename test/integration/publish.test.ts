import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LOCAL_REGION } from '../../local/assembly/stack-model.js';
import { SYSTEM_USER } from '../../protocol/publish.js';
import { createPublisher, PublishError, type Publisher } from '../../publish/index.js';
import {
  describeOnEachEngine,
  fresh,
  registerSkippedEngineNotice,
  useLocalStack,
  user,
} from './support/local-stack-fixture.js';
import type { Frame, TestClient } from './support/ws-client.js';

const isMessage = (frame: Frame) => frame.type === 'message';
const OPS = { userId: 'ops', name: 'Operations' };

describeOnEachEngine('publishing from other services', (engine) => {
  const local = useLocalStack(engine);
  let client: LambdaClient;
  let publisher: Publisher;

  beforeAll(() => {
    client = new LambdaClient({
      endpoint: local.stack.lambdaEndpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    publisher = createPublisher({ functionName: 'PublishHandler', client });
  });

  afterAll(() => {
    client?.destroy();
  });

  /** Invokes the publish function with a raw payload, as any caller may, and parses its result. */
  async function invokeRaw(payload: string): Promise<unknown> {
    const response = await client.send(
      new InvokeCommand({
        FunctionName: 'PublishHandler',
        Payload: new TextEncoder().encode(payload),
      }),
    );
    expect(response.FunctionError).toBeUndefined();
    return JSON.parse(new TextDecoder().decode(response.Payload));
  }

  /** The seqs of the next `count` message frames a client receives. */
  async function seqsOf(member: TestClient, count: number): Promise<unknown[]> {
    return (await member.take(count, isMessage)).map((frame) => frame.seq);
  }

  it('delivers to every connection of every member, in order, in one seq sequence with sends', async () => {
    const room = fresh('publish');
    const alice = fresh('alice');
    const bob = fresh('bob');
    const a1 = await local.joined({ sub: alice, name: 'Alice' }, room);
    const a2 = await local.joined({ sub: alice, name: 'Alice' }, room);
    const b1 = await local.joined({ sub: bob, name: 'Bob' }, room);

    const sent: unknown[] = [];
    sent.push((await a1.request({ action: 'send', room, data: 'from alice' })).seq);
    sent.push((await publisher.publishToRoom(room, { n: 1 })).seq);
    sent.push((await b1.request({ action: 'send', room, data: 'from bob' })).seq);
    const second = await publisher.publishToRoom(room, { n: 2 }, OPS);
    sent.push(second.seq);
    sent.push((await publisher.publishToRoom(room, { n: 3 })).seq);

    expect(sent).toEqual([1, 2, 3, 4, 5]);
    expect(second).toEqual({ ok: true, room, seq: 4, delivered: 3 });
    for (const member of [a1, a2, b1]) {
      const frames = await member.take(5, isMessage);
      expect(frames.map((frame) => frame.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(frames[1]).toEqual({
        type: 'message',
        room,
        seq: 2,
        from: SYSTEM_USER,
        data: { n: 1 },
        ts: expect.any(Number),
      });
      expect(frames[3]).toMatchObject({ seq: 4, from: OPS, data: { n: 2 } });
      expect(frames[2]).toMatchObject({ seq: 3, from: user(bob, 'Bob'), data: 'from bob' });
    }
  });

  it('stores what it publishes, so history returns it', async () => {
    const room = fresh('publish');
    const a1 = await local.joined(fresh('alice'), room);

    await publisher.publishToRoom(room, { text: 'stored' }, OPS);
    await publisher.publishToRoom(room, null);

    const reply = await a1.request({ action: 'history', room });
    expect(reply.messages).toEqual([
      {
        type: 'message',
        room,
        seq: 1,
        from: OPS,
        data: { text: 'stored' },
        ts: expect.any(Number),
      },
      { type: 'message', room, seq: 2, from: SYSTEM_USER, data: null, ts: expect.any(Number) },
    ]);
  });

  it('delivers to every open connection of a user, and to no one else', async () => {
    const alice = fresh('alice');
    const a1 = await local.connect(alice);
    const a2 = await local.connect(alice);
    const b1 = await local.connect(fresh('bob'));

    const result = await publisher.publishToUser(alice, { text: 'export ready' });

    expect(result).toEqual({ ok: true, delivered: 2 });
    for (const connection of [a1, a2]) {
      expect(await connection.nextOfType('direct')).toEqual({
        type: 'direct',
        from: SYSTEM_USER,
        data: { text: 'export ready' },
        ts: expect.any(Number),
      });
    }
    await local.settled();
    await b1.expectNothingReceived();
    await expect(publisher.publishToUser(fresh('nobody'), 1)).resolves.toEqual({
      ok: true,
      delivered: 0,
    });
  });

  const refusals: ReadonlyArray<readonly [string, (room: string, to: string) => string, string]> = [
    ['a payload that is not an object', () => '"hello"', 'bad_request'],
    ['an array payload', (room) => JSON.stringify([{ room, data: 1 }]), 'bad_request'],
    ['no target', () => JSON.stringify({ data: 1 }), 'bad_request'],
    ['both targets', (room, to) => JSON.stringify({ room, user: to, data: 1 }), 'bad_request'],
    ['a bad room name', () => JSON.stringify({ room: 'no spaces', data: 1 }), 'bad_request'],
    ['no data', (room) => JSON.stringify({ room }), 'bad_request'],
    ['an unknown field', (room) => JSON.stringify({ room, data: 1, id: 'x' }), 'bad_request'],
    [
      'a from without a name',
      (room) => JSON.stringify({ room, data: 1, from: { userId: 'ops' } }),
      'bad_request',
    ],
    [
      'data over MAX_DATA_BYTES to a room',
      (room) => JSON.stringify({ room, data: 'x'.repeat(16_384) }),
      'too_large',
    ],
    [
      'data over MAX_DATA_BYTES to a user',
      (_, to) => JSON.stringify({ user: to, data: 'x'.repeat(16_384) }),
      'too_large',
    ],
  ];

  it.each(refusals)(
    'refuses %s with its code, storing and delivering nothing',
    async (_, payloadOf, code) => {
      const room = fresh('refused');
      const alice = fresh('alice');
      const a1 = await local.joined(alice, room);
      await a1.request({ action: 'send', room, data: 'before' });
      await a1.nextOfType('message', { seq: 1 });

      expect(await invokeRaw(payloadOf(room, alice))).toEqual({
        ok: false,
        error: { code, message: expect.any(String) },
      });

      await local.settled();
      await a1.expectNothingReceived();
      // No seq was taken: the next send gets the one after the last.
      expect(await a1.request({ action: 'send', room, data: 'after' })).toMatchObject({ seq: 2 });
      expect(await seqsOf(a1, 1)).toEqual([2]);
    },
  );

  it('rejects a refusal through the helper with a PublishError carrying the code', async () => {
    const refusal = publisher.publishToRoom('no spaces', 1);
    await expect(refusal).rejects.toBeInstanceOf(PublishError);
    await expect(refusal).rejects.toMatchObject({ code: 'bad_request' });
  });
});

registerSkippedEngineNotice(it, 'the publish suite');
