import { HookFailedError } from './hook-failed-error.js';
import type { HookName } from './types.js';

/** How long one hook call may take. */
export interface TimeBudget {
  readonly ms: number;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
}

/**
 * Runs one hook call and resolves its answer; rejects with a
 * `HookFailedError` when the call throws or rejects, or when it has not
 * answered within the budget. An overrunning call is not cancelled (nothing
 * can cancel a promise); its late answer or failure is ignored.
 */
export async function withinBudget<T>(
  hook: HookName,
  budget: TimeBudget,
  call: () => T | PromiseLike<T>,
): Promise<T> {
  const started = budget.clock();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(overran(hook, budget)), budget.ms);
  });
  try {
    // `new Promise` turns a synchronous throw into a rejection as well.
    const answer = await Promise.race([new Promise<T>((resolve) => resolve(call())), overrun]);
    // A call that blocked the event loop answers before the timer can fire.
    if (budget.clock() - started > budget.ms) throw overran(hook, budget);
    return answer;
  } catch (error) {
    if (error instanceof HookFailedError) throw error;
    // An Error goes on the log line as the cause; anything else thrown is named here.
    const message = error instanceof Error ? 'threw' : `threw a ${typeof error}, not an Error`;
    throw new HookFailedError(hook, 'threw', message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function overran(hook: HookName, budget: TimeBudget): HookFailedError {
  return new HookFailedError(hook, 'overran', `did not answer within ${budget.ms} ms`);
}
