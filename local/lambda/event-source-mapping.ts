import type { EventSourceMappingModel } from '../assembly/event-sources.js';
import type { Invocation, Invoker } from '../gateway/invoker.js';
import type { CapturedRecord } from '../streams/stream-record.js';
import { batchOutcome } from './batch-response.js';
import { delay } from './delay.js';
import {
  type DiscardCondition,
  type LastError,
  streamFailureRecord,
} from './destination-records.js';
import { matchesAny } from './event-filter.js';

/** What an event source mapping needs of the local stack. */
export interface EventSourceMappingOptions {
  readonly mapping: EventSourceMappingModel;
  /** The function's ARN, for the records of discarded batches. */
  readonly functionArn: string;
  /** Invokes the function synchronously, as Lambda's pollers do. */
  readonly invoke: Invoker;
  readonly log: (line: string) => void;
  /** The wait before the first retry of a failed batch; it doubles for each retry after. */
  readonly retryDelayMs: number;
  /** The longest wait between retries. */
  readonly retryMaxDelayMs: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Lambda's limit on an invocation's payload, which ends a batch early. */
const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** How long DynamoDB keeps a stream record: a record retried "until it expires" stops here. */
const RETENTION_MS = 24 * 3600 * 1000;

interface Lane {
  readonly records: CapturedRecord[];
  running: boolean;
  /** When the lane last took a batch (ms): gathering the next one starts then. */
  gatheringSince: number;
  /** Wakes the lane while it waits for a fuller batch. */
  wake?: () => void;
}

/**
 * One event source mapping from a DynamoDB stream to a function, as Lambda
 * runs it: records that match no filter are dropped; the rest go, in order,
 * to `ParallelizationFactor` lanes (records of one partition key always to the
 * same lane), each with one batch in flight. A batch closes at `BatchSize`
 * records, 6 MB, or when `MaximumBatchingWindowInSeconds` has passed. A
 * failed batch is retried with a growing wait, split in two first when
 * `BisectBatchOnFunctionError` is set (a split is no retry), until
 * `MaximumRetryAttempts` or `MaximumRecordAgeInSeconds`; its records are then
 * skipped, with a log line and, for an on-failure destination, the record
 * Lambda would send. With `ReportBatchItemFailures`, records before the lowest
 * reported failure are done and the batch is retried from it.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
export class StreamEventSourceMapping {
  readonly #options: EventSourceMappingOptions;
  readonly #mapping: EventSourceMappingModel;
  readonly #lanes: Lane[];
  readonly #stopping = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #now: () => number;
  /** Records accepted and not yet delivered or skipped. */
  #outstanding = 0;

  constructor(options: EventSourceMappingOptions) {
    this.#options = options;
    this.#mapping = options.mapping;
    this.#now = options.now ?? Date.now;
    this.#lanes = Array.from({ length: this.#mapping.parallelizationFactor }, () => ({
      records: [],
      running: false,
      gatheringSince: 0,
    }));
  }

  /** Takes a record of the stream, in stream order. */
  push(captured: CapturedRecord): void {
    if (this.#stopping.signal.aborted || !matchesAny(this.#mapping.filters, captured.record)) {
      return;
    }
    const lane = this.#lanes[laneOf(captured.partitionKey, this.#lanes.length)];
    if (lane === undefined) return;
    this.#outstanding += 1;
    lane.records.push(captured);
    lane.wake?.();
    if (!lane.running) this.#track(this.#drain(lane));
  }

  /** Whether some record is still to be delivered or skipped. */
  get busy(): boolean {
    return this.#outstanding > 0 && !this.#stopping.signal.aborted;
  }

  /** Resolves once every record taken so far is delivered or skipped (or the mapping stopped). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops taking records and cuts every wait short; resolves when no lane
   * runs, that is once an invocation in flight has returned.
   */
  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const lane of this.#lanes) lane.wake?.();
    this.#settle(0);
    await Promise.allSettled([...this.#running]);
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  async #drain(lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (!this.#stopping.signal.aborted && lane.records.length > 0) {
        await this.#batchingWindow(lane);
        if (this.#stopping.signal.aborted) return;
        const batch = takeBatch(lane.records, this.#mapping.batchSize);
        lane.gatheringSince = this.#now();
        await this.#deliver(batch);
      }
    } catch (error) {
      this.#options.log(`${this.#name}: stopped delivering: ${String(error)}`);
    } finally {
      lane.running = false;
    }
  }

  /**
   * Waits while the batch could grow: not full, not at 6 MB, window not over.
   * The window runs from when gathering began: the first record's arrival, or
   * for records that came while the lane's last batch was in flight, when
   * that batch was taken (the poller gathers the next batch meanwhile). A
   * room busy for longer than the window gets its next batch as soon as the
   * last one returns, not a window after.
   */
  async #batchingWindow(lane: Lane): Promise<void> {
    const windowMs = this.#mapping.maximumBatchingWindowInSeconds * 1000;
    const first = lane.records[0]?.capturedAtMs ?? this.#now();
    const deadline = Math.max(first, lane.gatheringSince) + windowMs;
    while (
      !this.#stopping.signal.aborted &&
      this.#now() < deadline &&
      lane.records.length < this.#mapping.batchSize &&
      payloadBytes(lane.records) < PAYLOAD_LIMIT_BYTES
    ) {
      const woken = new AbortController();
      lane.wake = () => woken.abort();
      const stop = () => woken.abort();
      this.#stopping.signal.addEventListener('abort', stop, { once: true });
      await delay(deadline - this.#now(), woken.signal);
      this.#stopping.signal.removeEventListener('abort', stop);
      lane.wake = undefined;
    }
  }

  /** Delivers a batch with retries; every record of it ends delivered or skipped. */
  async #deliver(records: CapturedRecord[]): Promise<void> {
    const batches = [records];
    for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
      let retries = 0;
      let lastError: LastError | undefined;
      for (;;) {
        batch = this.#skipExpired(batch, retries, lastError);
        if (batch.length === 0) break;
        const invocation = await this.#invoke(batch);
        if (this.#stopping.signal.aborted) return;
        const outcome = batchOutcome(
          invocation,
          batch.map((captured) => captured.record.dynamodb.SequenceNumber),
          this.#mapping.reportBatchItemFailures,
        );
        if (outcome.kind === 'success') {
          this.#settle(batch.length);
          break;
        }
        if (!invocation.ok) lastError = invocation.error;
        if (outcome.kind === 'partial') {
          this.#settle(outcome.index);
          batch = batch.slice(outcome.index);
        } else if (this.#mapping.bisectBatchOnFunctionError && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          this.#options.log(
            `${this.#name}: batch of ${batch.length} failed (${outcome.reason}); splitting it in two`,
          );
          batches.unshift(batch.slice(0, half), batch.slice(half));
          break;
        }
        const why = outcome.kind === 'partial' ? 'reported failed records' : outcome.reason;
        if (
          this.#mapping.maximumRetryAttempts !== -1 &&
          retries >= this.#mapping.maximumRetryAttempts
        ) {
          this.#discard(batch, 'RetryAttemptsExhausted', retries + 1, lastError);
          this.#options.log(
            `${this.#name}: skipped ${describe(batch)} after ${retries} retries (${why})`,
          );
          break;
        }
        retries += 1;
        const waitMs = Math.min(
          this.#options.retryDelayMs * 2 ** (retries - 1),
          this.#options.retryMaxDelayMs,
        );
        this.#options.log(
          `${this.#name}: batch of ${batch.length} failed (${why}); retry ${retries} in ${waitMs} ms`,
        );
        await delay(waitMs, this.#stopping.signal);
        if (this.#stopping.signal.aborted) return;
      }
    }
  }

  /** The batch without the records past their maximum age, which are skipped. */
  #skipExpired(
    batch: CapturedRecord[],
    retries: number,
    lastError: LastError | undefined,
  ): CapturedRecord[] {
    const limitMs =
      this.#mapping.maximumRecordAgeInSeconds === -1
        ? RETENTION_MS
        : this.#mapping.maximumRecordAgeInSeconds * 1000;
    const now = this.#now();
    const expired = batch.filter((captured) => now - captured.capturedAtMs > limitMs);
    if (expired.length === 0) return batch;
    this.#discard(expired, 'RecordAgeExceeded', retries, lastError);
    this.#options.log(
      `${this.#name}: skipped ${describe(expired)} older than ${limitMs / 1000} s (MaximumRecordAgeInSeconds)`,
    );
    return batch.filter((captured) => !expired.includes(captured));
  }

  async #invoke(batch: readonly CapturedRecord[]): Promise<Invocation> {
    try {
      return await this.#options.invoke(this.#mapping.functionId, {
        Records: batch.map((captured) => captured.record),
      });
    } catch (error) {
      return { ok: false, error: { kind: 'error', name: 'Error', message: String(error) } };
    }
  }

  /** Settles skipped records, logging the record an on-failure destination would get. */
  #discard(
    batch: readonly CapturedRecord[],
    condition: DiscardCondition,
    invokeCount: number,
    lastError: LastError | undefined,
  ): void {
    this.#settle(batch.length);
    const destination = this.#mapping.onFailure;
    if (destination === undefined) return;
    const record = streamFailureRecord({
      functionArn: this.#options.functionArn,
      streamArn: this.#mapping.eventSourceArn,
      condition,
      invokeCount,
      ...(lastError === undefined ? {} : { lastError }),
      records: batch.map((captured) => ({
        sequenceNumber: captured.record.dynamodb.SequenceNumber,
        capturedAtMs: captured.capturedAtMs,
      })),
    });
    this.#options.log(
      `${this.#name}: on-failure destination ${destination} (not emulated) gets ${JSON.stringify(record)}`,
    );
  }

  #settle(count: number): void {
    this.#outstanding -= count;
    if (this.busy) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  get #name(): string {
    return `${this.#mapping.logicalId} (${this.#mapping.functionId})`;
  }
}

/** The lane of a partition key: FNV-1a, so one key always lands in one lane. */
function laneOf(partitionKey: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < partitionKey.length; index++) {
    hash ^= partitionKey.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}

/** Takes the next batch off the front: at most `size` records, within the payload limit. */
function takeBatch(records: CapturedRecord[], size: number): CapturedRecord[] {
  let count = 0;
  let bytes = 0;
  for (const captured of records) {
    if (count === size || (count > 0 && bytes + captured.payloadBytes > PAYLOAD_LIMIT_BYTES)) break;
    count += 1;
    bytes += captured.payloadBytes;
  }
  return records.splice(0, count);
}

function payloadBytes(records: readonly CapturedRecord[]): number {
  return records.reduce((sum, captured) => sum + captured.payloadBytes, 0);
}

function describe(batch: readonly CapturedRecord[]): string {
  const first = batch[0]?.record.dynamodb.SequenceNumber;
  const last = batch.at(-1)?.record.dynamodb.SequenceNumber;
  const records = batch.length === 1 ? '1 record' : `${batch.length} records`;
  return first === last ? `${records} (${first})` : `${records} (${first} to ${last})`;
}
