import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../lambdas/domain/concurrency.js';

/** A task per item that finishes when the test says so, recording what is in flight. */
function controlled(count: number) {
  const finishers = new Map<number, (error?: Error) => void>();
  const started: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const work = (item: number) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      finishers.set(item, (error) => {
        inFlight--;
        if (error) reject(error);
        else resolve();
      });
    });
  // Lets the helper see settlements and start what it will, groups a turn apart included.
  const settle = async () => {
    for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
  };
  const finish = async (item: number, error?: Error) => {
    finishers.get(item)?.(error);
    await settle();
  };
  return {
    items: Array.from({ length: count }, (_, index) => index),
    work,
    finish,
    settle,
    started,
    maxInFlight: () => maxInFlight,
  };
}

describe('forEachBounded', () => {
  it('runs every item once, in order of start, never more than the limit at once', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const failures = await forEachBounded(
      Array.from({ length: 100 }, (_, index) => index),
      7,
      async (item) => {
        seen.push(item);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, item % 3));
        inFlight--;
      },
    );
    expect(failures).toEqual([]);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(maxInFlight).toBe(7);
  });

  it('returns rejections and synchronous throws instead of throwing, and still runs the rest', async () => {
    const ran: number[] = [];
    const failures = await forEachBounded([1, 2, 3, 4], 2, (item) => {
      ran.push(item);
      if (item === 2) throw new Error('sync');
      if (item === 3) return Promise.reject(new Error('async'));
      return Promise.resolve();
    });
    expect(ran).toEqual([1, 2, 3, 4]);
    expect(failures.map((error) => (error as Error).message).sort()).toEqual(['async', 'sync']);
  });

  it('resolves at once for no items', async () => {
    await expect(forEachBounded([], 4, async () => {})).resolves.toEqual([]);
  });

  it('with a group, starts nothing until that many slots are free', async () => {
    const tasks = controlled(20);
    const done = forEachBounded(tasks.items, 8, tasks.work, 4);
    await tasks.settle();
    expect(tasks.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    for (const item of [0, 1, 2]) await tasks.finish(item);
    expect(tasks.started).toHaveLength(8);
    await tasks.finish(3);
    expect(tasks.started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

    for (let item = 4; item < 20; item++) await tasks.finish(item);
    await expect(done).resolves.toEqual([]);
    expect(tasks.started).toEqual(tasks.items);
    expect(tasks.maxInFlight()).toBe(8);
  });

  it('with a group, lets each group reach its first I/O before the next group starts', async () => {
    // What the SDK does: a post is prepared in promise callbacks, then written to its socket.
    const log: string[] = [];
    const pending: (() => void)[] = [];
    const done = forEachBounded(
      [0, 1, 2, 3, 4, 5],
      6,
      async (item) => {
        log.push(`prepare ${item}`);
        for (let step = 0; step < 3; step++) await Promise.resolve();
        log.push(`write ${item}`);
        await new Promise<void>((resolve) => pending.push(resolve));
      },
      3,
    );
    for (let turn = 0; turn < 3; turn++) await new Promise(setImmediate);
    expect(log).toEqual([
      ...['prepare 0', 'prepare 1', 'prepare 2', 'write 0', 'write 1', 'write 2'],
      ...['prepare 3', 'prepare 4', 'prepare 5', 'write 3', 'write 4', 'write 5'],
    ]);
    for (const resolve of pending) resolve();
    await expect(done).resolves.toEqual([]);
  });

  it('with a group, a slow item holds only its own slot', async () => {
    const tasks = controlled(30);
    const done = forEachBounded(tasks.items, 8, tasks.work, 4);
    await tasks.settle();
    // Item 0 never finishes until the end; the other seven slots keep the rest moving.
    for (let item = 1; item < 30; item++) await tasks.finish(item);
    expect(tasks.started).toEqual(tasks.items);
    await tasks.finish(0);
    await expect(done).resolves.toEqual([]);
  });

  it('with a group, starts the last items when they fit, though fewer than the group', async () => {
    const tasks = controlled(10);
    const done = forEachBounded(tasks.items, 8, tasks.work, 4);
    await tasks.settle();
    await tasks.finish(0);
    await tasks.finish(1);
    // 2 slots free and 2 items left: they start rather than wait for a group of 4.
    expect(tasks.started).toEqual(tasks.items);
    for (let item = 2; item < 10; item++) await tasks.finish(item);
    await expect(done).resolves.toEqual([]);
  });

  it('with a group, counts a rejected item as done', async () => {
    const tasks = controlled(6);
    const done = forEachBounded(tasks.items, 2, tasks.work, 2);
    await tasks.settle();
    await tasks.finish(0, new Error('refused'));
    await tasks.finish(1);
    expect(tasks.started).toEqual([0, 1, 2, 3]);
    for (let item = 2; item < 6; item++) await tasks.finish(item);
    const failures = await done;
    expect(failures.map((error) => (error as Error).message)).toEqual(['refused']);
  });
});
