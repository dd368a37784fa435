import type { AsyncInvokeModel } from '../assembly/event-sources.js';
import type { Invocation, Invoker } from '../gateway/invoker.js';
import { delay } from './delay.js';
import {
  asyncFailureRecord,
  type DiscardCondition,
  type LastError,
} from './destination-records.js';

/** What asynchronous invocation needs to know of a function. */
export interface AsyncFunction {
  /** For logs. */
  readonly name: string;
  readonly arn: string;
  readonly asyncInvoke: AsyncInvokeModel;
}

/** How the local stack runs asynchronous invocations. */
export interface AsyncInvocationsOptions {
  /** Invokes a function once. */
  readonly invoke: Invoker;
  /** The function with this logical id, undefined when there is none. */
  readonly functionOf: (functionId: string) => AsyncFunction | undefined;
  readonly log: (line: string) => void;
  /**
   * Waits before the first, second, ... retry; the last one repeats. Lambda
   * waits about a minute before the first retry and two before the second.
   */
  readonly retryDelaysMs: readonly number[];
  /** @default Date.now */
  readonly now?: () => number;
}

/** Lambda's waits between the attempts of a failed asynchronous invocation. */
export const ASYNC_RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];

/**
 * Lambda's queue of asynchronous invocations (`InvocationType: Event`): each
 * event runs at once; when the function fails (an error, a timeout, a crash)
 * it runs again after the retry delays, at most `MaximumRetryAttempts` more
 * times and never once `MaximumEventAgeInSeconds` would have passed. A
 * discarded event is logged, with the record an on-failure destination would
 * get when the function has one.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
export class AsyncInvocations {
  readonly #options: AsyncInvocationsOptions;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #idleWaiters: (() => void)[] = [];

  constructor(options: AsyncInvocationsOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Queues an event for the function; it runs as soon as the function can take it. */
  enqueue(functionId: string, event: unknown): void {
    if (this.#stopping.signal.aborted) return;
    const run = this.#run(functionId, event);
    this.#running.add(run);
    void run.finally(() => {
      this.#running.delete(run);
      if (!this.busy) for (const resolve of this.#idleWaiters.splice(0)) resolve();
    });
  }

  /** Whether an event is running or waiting for a retry. */
  get busy(): boolean {
    return this.#running.size > 0 && !this.#stopping.signal.aborted;
  }

  /** Resolves once every queued event has succeeded or been discarded (or the queue stopped). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops waiting retries; resolves once invocations in flight have returned. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    await Promise.allSettled([...this.#running]);
  }

  async #run(functionId: string, event: unknown): Promise<void> {
    const fn = this.#options.functionOf(functionId);
    if (fn === undefined) return;
    const { maximumRetryAttempts, maximumEventAgeInSeconds } = fn.asyncInvoke;
    const expiresAt = this.#now() + maximumEventAgeInSeconds * 1000;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#invoke(functionId, event);
      if (outcome.ok || this.#stopping.signal.aborted) return;
      const failed = `${fn.name} (Event) failed: ${outcome.error.message}`;
      if (attempt > maximumRetryAttempts) {
        this.#options.log(`${failed}; discarded the event after ${attempt} attempts`);
        return this.#discard(fn, event, 'RetriesExhausted', attempt, outcome.error);
      }
      const delays = this.#options.retryDelaysMs;
      const waitMs = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
      if (this.#now() + waitMs > expiresAt) {
        this.#options.log(
          `${failed}; discarded the event: it would pass MaximumEventAgeInSeconds (${maximumEventAgeInSeconds}) before its retry`,
        );
        return this.#discard(fn, event, 'EventAgeExceeded', attempt, outcome.error);
      }
      this.#options.log(`${failed}; retry ${attempt} of ${maximumRetryAttempts} in ${waitMs} ms`);
      await delay(waitMs, this.#stopping.signal);
      if (this.#stopping.signal.aborted) return;
    }
  }

  async #invoke(functionId: string, event: unknown): Promise<Invocation> {
    try {
      return await this.#options.invoke(functionId, event);
    } catch (error) {
      return { ok: false, error: { kind: 'error', name: 'Error', message: String(error) } };
    }
  }

  #discard(
    fn: AsyncFunction,
    event: unknown,
    condition: DiscardCondition,
    invokeCount: number,
    lastError: LastError,
  ): void {
    const destination = fn.asyncInvoke.onFailure;
    if (destination === undefined) return;
    const record = asyncFailureRecord({
      functionArn: fn.arn,
      condition,
      invokeCount,
      event,
      lastError,
    });
    this.#options.log(
      `${fn.name} (Event): on-failure destination ${destination} (not emulated) gets ${JSON.stringify(record)}`,
    );
  }
}
