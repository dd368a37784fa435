import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../../local/faults/fault-injector.js';
import { seededRandom } from '../../../local/faults/seeded-random.js';

/** A generator that replays `values`, then draws 0.99 (no fault at any rate below it). */
function scripted(...values: number[]): () => number {
  return () => values.shift() ?? 0.99;
}

describe('FaultInjector', () => {
  it.each([
    ['dynamoRate', -0.1],
    ['managementRate', 1.5],
    ['lostDisconnectRate', Number.NaN],
  ])('refuses %s %d, outside 0 to 1', (name, value) => {
    expect(() => new FaultInjector({ [name]: value })).toThrow(RangeError);
  });

  it('injects nothing and draws nothing without rates', () => {
    let draws = 0;
    const faults = new FaultInjector({
      random: () => {
        draws++;
        return 0;
      },
    });

    for (let i = 0; i < 100; i++) {
      expect(faults.dynamo()).toBeUndefined();
      expect(faults.management()).toBeUndefined();
      expect(faults.disconnectLost()).toBe(false);
    }

    expect(draws).toBe(0);
    expect(faults.report).toEqual({
      dynamoThrottled: 0,
      dynamoServerErrors: 0,
      managementThrottled: 0,
      managementServerErrors: 0,
      disconnectsLost: 0,
    });
  });

  it("alternates DynamoDB's throttling error and server error", () => {
    const faults = new FaultInjector({ dynamoRate: 1 });

    const answers = [faults.dynamo(), faults.dynamo(), faults.dynamo()];

    expect(answers).toEqual([
      expect.objectContaining({ status: 400, type: 'ProvisionedThroughputExceededException' }),
      expect.objectContaining({ status: 500, type: 'InternalServerError' }),
      expect.objectContaining({ status: 400, type: 'ProvisionedThroughputExceededException' }),
    ]);
    expect(faults.report).toMatchObject({ dynamoThrottled: 2, dynamoServerErrors: 1 });
  });

  it('alternates the management API answers 429 LimitExceededException and 500', () => {
    const faults = new FaultInjector({ managementRate: 1 });

    const answers = [faults.management(), faults.management()];

    expect(answers).toEqual([
      expect.objectContaining({ status: 429, type: 'LimitExceededException' }),
      expect.objectContaining({ status: 500 }),
    ]);
    expect(faults.report).toMatchObject({ managementThrottled: 1, managementServerErrors: 1 });
  });

  it('fails a request when the draw falls under the rate, and only then', () => {
    const faults = new FaultInjector({ dynamoRate: 0.25, random: scripted(0.2, 0.3, 0.25) });

    expect([faults.dynamo(), faults.dynamo(), faults.dynamo()].map(Boolean)).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('counts the $disconnects it drops', () => {
    const faults = new FaultInjector({ lostDisconnectRate: 0.5, random: scripted(0.1, 0.9, 0.4) });

    expect([faults.disconnectLost(), faults.disconnectLost(), faults.disconnectLost()]).toEqual([
      true,
      false,
      true,
    ]);
    expect(faults.report.disconnectsLost).toBe(2);
  });

  it('fails close to the given fraction with a seeded generator', () => {
    const faults = new FaultInjector({ managementRate: 0.05, random: seededRandom(7) });

    for (let i = 0; i < 10_000; i++) faults.management();

    const { managementThrottled, managementServerErrors } = faults.report;
    // Binomial(10000, 0.05): mean 500, standard deviation 22; ±100 is over 4.5 deviations.
    expect(managementThrottled + managementServerErrors).toBeGreaterThan(400);
    expect(managementThrottled + managementServerErrors).toBeLessThan(600);
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for a seed and differs for another', () => {
    const take = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));

    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
  });

  it('draws in [0, 1) and spreads over the interval', () => {
    const random = seededRandom(1);
    const draws = Array.from({ length: 10_000 }, random);

    expect(draws.every((draw) => draw >= 0 && draw < 1)).toBe(true);
    const low = draws.filter((draw) => draw < 0.5).length;
    expect(low).toBeGreaterThan(4_700);
    expect(low).toBeLessThan(5_300);
  });
});
