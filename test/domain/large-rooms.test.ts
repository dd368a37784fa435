import { beforeEach, describe, expect, it } from 'vitest';
import type { Caller } from '../../lambdas/domain/caller.js';
import { deliver } from '../../lambdas/domain/fan-out.js';
import type { DeliveryReport, DeliveryWorkers, Target } from '../../lambdas/domain/ports.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import type { ServerFrame } from '../../protocol/messages.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

const CHUNK = 4;

/**
 * Workers that post through the same (fake) management API, as the real ones
 * post through the same stage, and record the shares they were given.
 */
class FakeWorkers implements DeliveryWorkers {
  readonly chunkSize = CHUNK;
  readonly shares: string[][] = [];
  /** Refuse every invocation, as a throttled Lambda would. */
  refusing = false;
  /** Run but fail, as a worker that timed out part way would. */
  crashing = false;

  constructor(private readonly world: ReturnType<typeof fakeServices>) {}

  async deliver(targets: readonly Target[], payload: string): Promise<DeliveryReport> {
    if (this.refusing) throw new Error('TooManyRequestsException');
    this.shares.push(targets.map((target) => target.connectionId));
    if (this.crashing) return { delivered: 0, failed: targets.length, gone: [] };
    return deliver(this.world.services, targets, payload);
  }
}

let world: ReturnType<typeof fakeServices>;
let workers: FakeWorkers;
beforeEach(() => {
  world = fakeServices();
  workers = new FakeWorkers(world);
  world.services = { ...world.services, workers };
});

/** `count` users of one connection each in `room`; their arrivals are taken as announced. */
async function roomOf(count: number, room = 'big'): Promise<Caller[]> {
  const callers: Caller[] = [];
  for (let index = 0; index < count; index++) {
    const caller = callerOf(`u${index}`, `c${index}`);
    await connect(world, caller);
    await join(world.services, caller, { action: 'join', room });
    callers.push(caller);
  }
  world.rooms.changes.length = 0;
  world.notifier.posts.length = 0;
  workers.shares.length = 0;
  return callers;
}

const messagesTo = (connectionId: string) =>
  world.notifier
    .to(connectionId)
    .filter((frame): frame is Extract<ServerFrame, { type: 'message' }> => frame.type === 'message')
    .map((frame) => frame.seq);

describe('fan-out to large rooms through workers', () => {
  it(`posts a room of ${CHUNK} connections itself, invoking no worker`, async () => {
    const [alice] = await roomOf(CHUNK);

    await send(world.services, alice as Caller, { action: 'send', room: 'big', data: 1 });

    expect(workers.shares).toEqual([]);
    expect(world.notifier.posts).toHaveLength(CHUNK);
  });

  it('splits a larger room into shares of the chunk size, posting the first itself', async () => {
    const callers = await roomOf(2 * CHUNK + 2);

    await send(world.services, callers[0] as Caller, { action: 'send', room: 'big', data: 1 });

    expect(workers.shares.map((share) => share.length)).toEqual([CHUNK, 2]);
    const delegated = workers.shares.flat();
    expect(new Set(delegated).size).toBe(CHUNK + 2);
    for (const caller of callers) expect(messagesTo(caller.connectionId)).toEqual([1]);
  });

  it('delivers each connection every message once, in seq order', async () => {
    const callers = await roomOf(3 * CHUNK);

    for (const data of [1, 2, 3]) {
      await send(world.services, callers[0] as Caller, { action: 'send', room: 'big', data });
    }

    for (const caller of callers) expect(messagesTo(caller.connectionId)).toEqual([1, 2, 3]);
  });

  it('hands the gone connections a worker found to pruning, which announces the leave', async () => {
    const callers = await roomOf(3 * CHUNK);
    const gone = callers[callers.length - 1] as Caller;
    // It joined a second ago, then vanished.
    world.notifier.gone.add(gone.connectionId);
    world.clock.now += 1_000;

    await send(world.services, callers[0] as Caller, { action: 'send', room: 'big', data: 1 });

    expect(workers.shares.flat()).toContain(gone.connectionId);
    expect(world.pruneQueue.queued.map((each) => each.connectionId)).toEqual([gone.connectionId]);
    await world.settle();
    expect(world.connections.records.has(gone.connectionId)).toBe(false);
    const presence = world.notifier
      .to(callers[0]?.connectionId ?? '')
      .filter((frame) => frame.type === 'presence');
    expect(presence).toEqual([
      {
        type: 'presence',
        room: 'big',
        joined: [],
        left: [{ userId: gone.identity.userId, name: gone.identity.name }],
      },
    ]);
  });

  it('posts a share itself when no worker would take it', async () => {
    const callers = await roomOf(3 * CHUNK);
    workers.refusing = true;

    const ack = await send(world.services, callers[0] as Caller, {
      action: 'send',
      id: 'r1',
      room: 'big',
      data: 1,
    });

    expect(ack).toEqual({ type: 'ack', id: 'r1', room: 'big', seq: 1 });
    for (const caller of callers) expect(messagesTo(caller.connectionId)).toEqual([1]);
  });

  it('acks a send whose worker failed without posting its share again (history recovers it)', async () => {
    const callers = await roomOf(2 * CHUNK);
    workers.crashing = true;

    const ack = await send(world.services, callers[0] as Caller, {
      action: 'send',
      id: 'r1',
      room: 'big',
      data: 1,
    });

    expect(ack).toMatchObject({ type: 'ack', seq: 1 });
    const reached = callers.filter((caller) => messagesTo(caller.connectionId).length > 0);
    expect(reached).toHaveLength(CHUNK);
  });

  it('splits presence announcements of a large room too', async () => {
    await roomOf(2 * CHUNK);
    const newcomer = callerOf('newcomer', 'c-new');
    await connect(world, newcomer);

    await join(world.services, newcomer, { action: 'join', room: 'big' });
    await world.settle();

    expect(workers.shares).toHaveLength(1);
    // Presence goes to the others: 2 shares of CHUNK, one posted here, one by a worker.
    expect(world.notifier.posts.filter((post) => post.frame.type === 'presence')).toHaveLength(
      2 * CHUNK,
    );
  });
});
