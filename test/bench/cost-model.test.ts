import { describe, expect, it } from 'vitest';
import { costPerMillionSends, PRICES } from '../../bench/cost-model.js';

const BASE = {
  deliveries: 10,
  frameBytes: 300,
  requestBytes: 200,
  replies: 1,
  lambdaInvocations: 1,
  lambdaMs: 20,
  lambdaMemoryMb: 256,
  readUnits: 2,
  writeUnits: 3,
};

describe('costPerMillionSends', () => {
  it('sets the floor at one API Gateway message in and one per member', () => {
    const cost = costPerMillionSends(BASE);

    expect(cost.floor).toBeCloseTo(11 * PRICES.apiGatewayMessage * 1e6);
    expect(cost.apiGateway).toBeCloseTo(12);
  });

  it('prices Lambda by requests and arm64 GB-seconds, and DynamoDB by units', () => {
    const cost = costPerMillionSends(BASE);

    expect(cost.lambda).toBeCloseTo(0.2 + 0.02 * 0.25 * 0.0000133334 * 1e6);
    expect(cost.dynamo).toBeCloseTo(2 * 0.125 + 3 * 0.625);
    expect(cost.total).toBeCloseTo(cost.apiGateway + cost.lambda + cost.dynamo);
    expect(cost.overFloor).toBeCloseTo(cost.total / cost.floor);
  });

  it('meters each frame in 32 KB increments', () => {
    const cost = costPerMillionSends({ ...BASE, frameBytes: 32 * 1024 + 1, deliveries: 1 });

    expect(cost.floor).toBeCloseTo(3);
  });
});
