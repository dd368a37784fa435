import { randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION, type ScheduleModel } from '../assembly/stack-model.js';

/** Why a schedule expression cannot run locally. */
export class UnsupportedScheduleError extends Error {
  override readonly name = 'UnsupportedScheduleError';
  readonly code = 'unsupported_schedule';
}

const UNIT_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/**
 * The period of an EventBridge `rate(...)` expression in milliseconds. As in
 * AWS, the unit is singular for 1 and plural otherwise. `cron(...)` is not run
 * locally (the stack has none); it is refused rather than misread.
 */
export function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  const value = Number(match?.[1]);
  const unit = match?.[2];
  if (match === null || unit === undefined || !(value > 0)) {
    throw new UnsupportedScheduleError(`schedule "${expression}" cannot run locally`);
  }
  if ((value === 1) !== !unit.endsWith('s')) {
    throw new UnsupportedScheduleError(
      `schedule "${expression}": use "minute" for 1, else "minutes"`,
    );
  }
  return value * (UNIT_MS[unit] ?? 0);
}

/** The event EventBridge delivers to a scheduled rule's Lambda target. */
export function scheduledEvent(schedule: ScheduleModel, time = new Date()) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${schedule.ruleId}`],
    detail: {},
  };
}

/**
 * Runs each schedule every period from now on, as EventBridge does, through
 * `run`; a run still going when the next is due is not doubled up. Returns a
 * function that stops the timers.
 */
export function startSchedules(
  schedules: readonly ScheduleModel[],
  run: (schedule: ScheduleModel) => Promise<unknown>,
): () => void {
  const timers = schedules.map((schedule) => {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void run(schedule).finally(() => {
        running = false;
      });
    }, ratePeriodMs(schedule.expression));
    timer.unref();
    return timer;
  });
  return () => {
    for (const timer of timers) clearInterval(timer);
  };
}
