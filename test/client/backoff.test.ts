import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../client/index.js';

const options = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2 };

describe('backoffDelay', () => {
  it('waits 0 ms when the random draw is 0', () => {
    for (const attempt of [0, 1, 5, 20]) expect(backoffDelay(attempt, options, () => 0)).toBe(0);
  });

  it('stays just under the growing ceiling when the random draw is 0.999', () => {
    expect(backoffDelay(0, options, () => 0.999)).toBe(499);
    expect(backoffDelay(1, options, () => 0.999)).toBe(999);
    expect(backoffDelay(3, options, () => 0.999)).toBe(3996);
  });

  it('never exceeds maxDelayMs, however many attempts and whatever the draw', () => {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      for (const draw of [0.5, 0.999, 0.999999, 1]) {
        const delay = backoffDelay(attempt, options, () => draw);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(options.maxDelayMs);
      }
    }
    expect(backoffDelay(10, options, () => 0.999)).toBe(29_970);
  });

  it('draws uniformly below the ceiling (full jitter), not around it', () => {
    const draws = [0.1, 0.25, 0.5, 0.75, 0.9];
    expect(draws.map((draw) => backoffDelay(2, options, () => draw))).toEqual([
      200, 500, 1000, 1500, 1800,
    ]);
  });

  it('uses a 500 ms start, a factor of 2 and a 30 s cap by default', () => {
    expect(DEFAULT_BACKOFF).toEqual(options);
    expect(backoffDelay(4, undefined, () => 0.5)).toBe(4000);
  });
});
