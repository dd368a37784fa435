import { describe, expect, it } from 'vitest';
import { CONNECT_GRACE_MS } from '../../lambdas/domain/pruning.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { PAGE_RESERVE_MS, sweep } from '../../lambdas/domain/sweep.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

const UNBOUNDED = { deadline: () => Number.POSITIVE_INFINITY };

/** A world with connections made a minute ago, past the connect grace. */
async function worldWith(...ids: Array<[user: string, connection: string]>) {
  const world = fakeServices();
  const callers = [];
  for (const [user, connection] of ids) {
    const caller = await connect(world, callerOf(user, connection));
    await join(world.services, caller, { action: 'join', room: 'lobby' });
    callers.push(caller);
  }
  world.clock.now += 60_000;
  world.notifier.posts.length = 0;
  return { world, callers };
}

describe('sweep', () => {
  it('asks about every connection once and prunes the gone ones with their memberships', async () => {
    const { world } = await worldWith(
      ['alice', 'a1'],
      ['bob', 'b1'],
      ['carol', 'c1'],
      ['dan', 'd1'],
    );
    world.notifier.gone.add('a1');
    world.notifier.gone.add('c1');

    const report = await sweep(world.services, UNBOUNDED);

    expect(report).toEqual({ checked: 4, pruned: 2, failed: 0, complete: true });
    expect([...world.notifier.probes].sort()).toEqual(['a1', 'b1', 'c1', 'd1']);
    expect([...world.connections.records.keys()].sort()).toEqual(['b1', 'd1']);
    const members = (await world.rooms.snapshot('lobby')).members.map((m) => m.userId);
    expect(members.sort()).toEqual(['bob', 'dan']);
  });

  it('leaves a membership change behind for each pruned user, which the presence function announces', async () => {
    const { world } = await worldWith(['alice', 'a1'], ['bob', 'b1']);
    world.rooms.changes.length = 0;
    world.notifier.gone.add('a1');

    await sweep(world.services, UNBOUNDED);
    await world.settle();

    expect(world.notifier.to('b1')).toEqual([
      { type: 'presence', room: 'lobby', joined: [], left: [{ userId: 'alice', name: 'alice' }] },
    ]);
  });

  it('leaves connections younger than the connect grace alone, without asking about them', async () => {
    const world = fakeServices();
    await connect(world, callerOf('alice', 'a1'));
    world.clock.now += CONNECT_GRACE_MS - 1;
    world.notifier.gone.add('a1');

    const report = await sweep(world.services, UNBOUNDED);

    expect(report.checked).toBe(0);
    expect(world.connections.records.has('a1')).toBe(true);
  });

  it('counts a check that fails after retries and goes on with the others', async () => {
    const { world } = await worldWith(['alice', 'a1'], ['bob', 'b1'], ['carol', 'c1']);
    world.notifier.failing.add('a1');
    world.notifier.gone.add('c1');

    const report = await sweep(world.services, UNBOUNDED);

    expect(report).toEqual({ checked: 3, pruned: 1, failed: 1, complete: true });
    expect(world.connections.records.has('a1')).toBe(true);
    expect(world.connections.records.has('c1')).toBe(false);
  });

  it('stops before a page it could not finish by the deadline, reporting itself incomplete', async () => {
    const { world } = await worldWith(['alice', 'a1'], ['bob', 'b1']);
    world.notifier.gone.add('a1');

    // Fixed before the sweep reads the clock: a deadline recomputed on each
    // call moves with the clock and, a millisecond later, leaves room for a page.
    const deadline = Date.now() + PAGE_RESERVE_MS - 1;
    const report = await sweep(world.services, { deadline: () => deadline });

    expect(report).toEqual({ checked: 0, pruned: 0, failed: 0, complete: false });
    expect(world.connections.records.has('a1')).toBe(true);
  });
});
