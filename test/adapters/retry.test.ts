import { beforeEach, describe, expect, it } from 'vitest';
import { type RetryPolicy, withRetry } from '../../lambdas/adapters/retry.js';

class Transient extends Error {
  override readonly name = 'Transient';
}
class Fatal extends Error {
  override readonly name = 'Fatal';
}

const isTransient = (error: unknown) => error instanceof Transient;

/** A call that fails with the given errors in turn, then resolves 'done'. */
function failing(...errors: Error[]) {
  const call = async () => {
    call.calls++;
    const error = errors[call.calls - 1];
    if (error !== undefined) throw error;
    return 'done';
  };
  call.calls = 0;
  return call;
}

let delays: number[];
const recordSleep = async (ms: number) => {
  delays.push(ms);
};

beforeEach(() => {
  delays = [];
});

describe('withRetry', () => {
  it('returns the first success without sleeping', async () => {
    const call = failing();

    await expect(
      withRetry(call, isTransient, {
        attempts: 3,
        baseDelayMs: 10,
        maxDelayMs: 100,
        sleep: recordSleep,
      }),
    ).resolves.toBe('done');
    expect(call.calls).toBe(1);
    expect(delays).toEqual([]);
  });

  it('draws each delay from [0, min(cap, base * 2^n)) with full jitter', async () => {
    const randoms = [0, 0.5, 0.999, 0.25, 0.999999];
    const policy: RetryPolicy = {
      attempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 500,
      sleep: recordSleep,
      random: () => randoms.shift() ?? 0,
    };
    const call = failing(...Array.from({ length: 5 }, () => new Transient('busy')));

    await expect(withRetry(call, isTransient, policy)).resolves.toBe('done');

    const bounds = [100, 200, 400, 500, 500];
    expect(call.calls).toBe(6);
    expect(delays).toHaveLength(5);
    for (const [n, delay] of delays.entries()) {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(bounds[n] ?? 0);
    }
    expect(delays[0]).toBe(0);
    expect(delays[1]).toBeCloseTo(100, 9);
    expect(delays[2]).toBeCloseTo(399.6, 9);
    expect(delays[3]).toBeCloseTo(125, 9);
    expect(delays[4]).toBeCloseTo(499.9995, 9);
  });

  it('throws a non-retryable error at once', async () => {
    const fatal = new Fatal('bad input');
    const call = failing(fatal);
    const retried: number[] = [];

    await expect(
      withRetry(
        call,
        isTransient,
        { attempts: 5, baseDelayMs: 10, maxDelayMs: 100, sleep: recordSleep },
        (_error, attempt) => retried.push(attempt),
      ),
    ).rejects.toBe(fatal);
    expect(call.calls).toBe(1);
    expect(delays).toEqual([]);
    expect(retried).toEqual([]);
  });

  it('stops after the given attempts and throws the last error', async () => {
    const first = new Transient('first');
    const second = new Transient('second');
    const last = new Transient('third');
    const call = failing(first, second, last);
    const retried: [unknown, number][] = [];

    await expect(
      withRetry(
        call,
        isTransient,
        { attempts: 3, baseDelayMs: 10, maxDelayMs: 100, sleep: recordSleep, random: () => 1 },
        (error, attempt) => retried.push([error, attempt]),
      ),
    ).rejects.toBe(last);
    expect(call.calls).toBe(3);
    expect(delays).toEqual([10, 20]);
    expect(retried).toEqual([
      [first, 1],
      [second, 2],
    ]);
    expect(retried[0]?.[0]).toBe(first);
  });

  it('stops retrying rather than sleep past the deadline', async () => {
    const deadline = Date.now() + 300;
    const errors = Array.from({ length: 9 }, (_, n) => new Transient(`failure ${n + 1}`));
    const call = failing(...errors);

    await expect(
      withRetry(call, isTransient, {
        attempts: 10,
        baseDelayMs: 100,
        maxDelayMs: 10_000,
        sleep: recordSleep,
        random: () => 0.5,
        deadline: () => deadline,
      }),
    ).rejects.toBe(errors[3]);
    // Delays 50, 100 and 200 fit before the deadline; the fourth, 400, would not.
    expect(delays).toEqual([50, 100, 200]);
    expect(call.calls).toBe(4);
  });
});
