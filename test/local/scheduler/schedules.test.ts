import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScheduleModel } from '../../../local/assembly/stack-model.js';
import {
  ratePeriodMs,
  scheduledEvent,
  startSchedules,
  UnsupportedScheduleError,
} from '../../../local/scheduler/schedules.js';

const SWEEP: ScheduleModel = {
  ruleId: 'SweepSchedule1234',
  expression: 'rate(10 minutes)',
  functionId: 'SweepHandler5678',
};

afterEach(() => {
  vi.useRealTimers();
});

describe('ratePeriodMs', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(10 minutes)', 600_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 days)', 172_800_000],
  ])('reads %s as %d ms', (expression, ms) => {
    expect(ratePeriodMs(expression)).toBe(ms);
  });

  it.each([
    'rate(0 minutes)',
    'rate(1 minutes)',
    'rate(5 minute)',
    'rate(5 seconds)',
    'cron(0 12 * * ? *)',
  ])('refuses %s, as EventBridge would or as this emulation cannot run', (expression) => {
    expect(() => ratePeriodMs(expression)).toThrow(UnsupportedScheduleError);
  });
});

describe('scheduledEvent', () => {
  it('is shaped like EventBridge’s scheduled event, naming the rule', () => {
    const event = scheduledEvent(SWEEP, new Date('2026-11-22T04:10:00.123Z'));

    expect(event).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-11-22T04:10:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/SweepSchedule1234'],
      detail: {},
    });
  });
});

describe('startSchedules', () => {
  it('runs each schedule every period until stopped, never two runs at once', async () => {
    vi.useFakeTimers();
    let finish: () => void = () => {};
    const runs: string[] = [];
    const stop = startSchedules([SWEEP], (schedule) => {
      runs.push(schedule.ruleId);
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    });

    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toHaveLength(1);
    // Still running when the next one is due: skipped, as a long sweep should be.
    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toHaveLength(1);
    finish();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toHaveLength(2);
    finish();

    stop();
    await vi.advanceTimersByTimeAsync(1_800_000);
    expect(runs).toHaveLength(2);
  });
});
