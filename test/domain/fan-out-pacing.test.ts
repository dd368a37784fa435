import { describe, expect, it } from 'vitest';
import { deliver, FAN_OUT_CONCURRENCY, FAN_OUT_GROUP } from '../../lambdas/domain/fan-out.js';
import type { Delivery, Notifier, Target } from '../../lambdas/domain/ports.js';

/** A management API whose posts answer only when the test releases them. */
class HeldNotifier implements Notifier {
  readonly started: string[] = [];
  readonly #pending = new Map<string, (delivery: Delivery) => void>();

  post(connectionId: string): Promise<Delivery> {
    this.started.push(connectionId);
    return new Promise((resolve) => this.#pending.set(connectionId, resolve));
  }

  probe(): Promise<'live' | 'gone'> {
    return Promise.resolve('live');
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  async release(connectionId: string, delivery: Delivery = 'delivered'): Promise<void> {
    this.#pending.get(connectionId)?.(delivery);
    this.#pending.delete(connectionId);
    await settle();
  }
}

/** Lets the fan-out start what it will: its groups start a turn of the event loop apart. */
const settle = async () => {
  for (let turn = 0; turn < 10; turn++) await new Promise(setImmediate);
};

const targetsOf = (count: number): Target[] =>
  Array.from({ length: count }, (_, index) => ({
    userId: `u${index}`,
    name: `User ${index}`,
    connectionId: `c${index}`,
  }));

describe('fan-out pacing', () => {
  it(`keeps ${FAN_OUT_CONCURRENCY} posts in flight, starting them ${FAN_OUT_GROUP} at a time`, async () => {
    const notifier = new HeldNotifier();
    const targets = targetsOf(FAN_OUT_CONCURRENCY * 3);
    const done = deliver({ notifier }, targets, '{}');
    await settle();
    expect(notifier.started).toHaveLength(FAN_OUT_CONCURRENCY);

    for (let index = 0; index < FAN_OUT_GROUP - 1; index++) await notifier.release(`c${index}`);
    expect(notifier.started).toHaveLength(FAN_OUT_CONCURRENCY);
    await notifier.release(`c${FAN_OUT_GROUP - 1}`, 'gone');
    expect(notifier.started).toHaveLength(FAN_OUT_CONCURRENCY + FAN_OUT_GROUP);
    expect(notifier.inFlight).toBe(FAN_OUT_CONCURRENCY);

    // The first post stays slow; it holds one slot while every other target is posted.
    for (const target of targets.slice(FAN_OUT_GROUP)) await notifier.release(target.connectionId);
    expect(notifier.started).toEqual(targets.map((target) => target.connectionId));
    for (const target of targets.slice(0, FAN_OUT_GROUP - 1)) {
      await notifier.release(target.connectionId);
    }
    const report = await done;
    expect(report.delivered).toBe(targets.length - 1);
    expect(report.gone.map((target) => target.connectionId)).toEqual([`c${FAN_OUT_GROUP - 1}`]);
    expect(report.failed).toBe(0);
  });
});
