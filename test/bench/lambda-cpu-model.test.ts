import { describe, expect, it } from 'vitest';
import { costPerMillionSends } from '../../bench/cost-model.js';
import { cpuShare, modelledDurationMs, modelSend } from '../../bench/lambda-cpu-model.js';

const BILL = {
  deliveries: 10,
  frameBytes: 300,
  requestBytes: 200,
  replies: 1,
  readUnits: 2,
  writeUnits: 3,
};

describe("Lambda's CPU share, modelled", () => {
  it('gives a function memory ÷ 1,769 MB of a vCPU, and never more than one', () => {
    expect(cpuShare(256)).toBeCloseTo(256 / 1769);
    expect(cpuShare(1769)).toBe(1);
    expect(cpuShare(3008)).toBe(1);
    expect(() => cpuShare(0)).toThrow(RangeError);
  });

  it('keeps the waiting of an invocation and stretches its CPU work by the share', () => {
    const invocation = { perSend: 1, wallMs: 30, cpuMs: 10 };

    expect(modelledDurationMs(invocation, 1769)).toBeCloseTo(30);
    expect(modelledDurationMs(invocation, 256)).toBeCloseTo(20 + (10 * 1769) / 256);
    // A CPU figure above the wall time (a clock's rounding) counts as all CPU.
    expect(modelledDurationMs({ perSend: 1, wallMs: 5, cpuMs: 6 }, 512)).toBeCloseTo(
      (5 * 1769) / 512,
    );
  });

  it("adds the stretched CPU of the route's function and one worker to the last member's wait", () => {
    const send = {
      handler: { perSend: 1, wallMs: 40, cpuMs: 10 },
      workers: { perSend: 4, wallMs: 60, cpuMs: 20 },
      lastMemberMs: 100,
      bill: BILL,
    };

    const at512 = modelSend(send, 512);
    const stretch = 1769 / 512 - 1;

    expect(at512.lastMemberMs).toBeCloseTo(100 + 30 * stretch);
    expect(at512.handlerMs).toBeCloseTo(30 + 10 * (1769 / 512));
    const billedMs = 30 + 10 * (1769 / 512) + 4 * (40 + 20 * (1769 / 512));
    expect(at512.gbSecondsPerSend).toBeCloseTo((billedMs / 1000) * 0.5);
    expect(at512.cost).toEqual(
      costPerMillionSends({
        ...BILL,
        lambdaInvocations: 5,
        lambdaMs: billedMs / 5,
        lambdaMemoryMb: 512,
      }),
    );
  });

  it('costs CPU-bound work about the same at any memory up to a full vCPU, and waiting more with memory', () => {
    const cpuBound = {
      handler: { perSend: 1, wallMs: 50, cpuMs: 50 },
      workers: { perSend: 0, wallMs: 0, cpuMs: 0 },
      lastMemberMs: 50,
      bill: BILL,
    };
    const waiting = { ...cpuBound, handler: { perSend: 1, wallMs: 50, cpuMs: 0 } };

    expect(modelSend(cpuBound, 256).gbSecondsPerSend).toBeCloseTo(
      modelSend(cpuBound, 1769).gbSecondsPerSend,
    );
    expect(modelSend(cpuBound, 256).lastMemberMs).toBeGreaterThan(
      modelSend(cpuBound, 1769).lastMemberMs * 6,
    );
    expect(modelSend(waiting, 1024).gbSecondsPerSend).toBeCloseTo(
      4 * modelSend(waiting, 256).gbSecondsPerSend,
    );
  });
});
