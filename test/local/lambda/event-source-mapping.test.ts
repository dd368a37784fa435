import { afterEach, describe, expect, it } from 'vitest';
import type { EventSourceMappingModel } from '../../../local/assembly/event-sources.js';
import type { Invocation } from '../../../local/gateway/invoker.js';
import { parseFilterPattern } from '../../../local/lambda/event-filter.js';
import { StreamEventSourceMapping } from '../../../local/lambda/event-source-mapping.js';
import {
  type CapturedRecord,
  type DynamoDBStreamRecord,
  recordOf,
} from '../../../local/streams/stream-record.js';
import { within } from '../support/wait.js';

const STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:000000000000:table/Rooms/stream/2000-01-01T00:00:00.000';

/** A mapping with AWS's defaults, except where a test says otherwise. */
function mappingOf(overrides: Partial<EventSourceMappingModel> = {}): EventSourceMappingModel {
  return {
    logicalId: 'PresenceMapping',
    functionId: 'PresenceFn',
    tableId: 'Rooms',
    eventSourceArn: STREAM_ARN,
    enabled: true,
    batchSize: 100,
    maximumBatchingWindowInSeconds: 0,
    startingPosition: 'LATEST',
    filters: [],
    reportBatchItemFailures: false,
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: -1,
    maximumRecordAgeInSeconds: -1,
    parallelizationFactor: 1,
    ...overrides,
  };
}

let position = 0n;

/** A stream record of a change to member `sk` of room `pk`, tagged `tag` in its new image. */
function change(
  pk: string,
  tag: string,
  eventName: 'INSERT' | 'MODIFY' = 'INSERT',
  capturedAtMs = Date.now(),
): CapturedRecord {
  position += 1n;
  const key = { pk: { S: pk }, sk: { S: 'member#ann' } };
  const captured = recordOf({
    table: {
      name: 'Rooms',
      keySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      viewType: 'NEW_AND_OLD_IMAGES',
      streamArn: STREAM_ARN,
    },
    oldImage: eventName === 'MODIFY' ? { ...key, tag: { S: 'before' } } : undefined,
    newImage: { ...key, tag: { S: tag } },
    position,
    region: 'us-east-1',
    nowMs: capturedAtMs,
  });
  if (captured === undefined) throw new Error('no record');
  return captured;
}

const tagOf = (record: DynamoDBStreamRecord): string | undefined => {
  const tag = record.dynamodb.NewImage?.tag?.S;
  return typeof tag === 'string' ? tag : undefined;
};

/** A fake function: records each batch by its tags and answers with `answer`. */
class FakeFunction {
  readonly batches: string[][] = [];
  inFlight = 0;
  mostInFlight = 0;

  constructor(
    private readonly answer: (
      records: readonly DynamoDBStreamRecord[],
      call: number,
    ) => Invocation | Promise<Invocation> = () => ({ ok: true, result: null }),
  ) {}

  readonly invoke = async (_: string, event: unknown): Promise<Invocation> => {
    const records = (event as { Records: DynamoDBStreamRecord[] }).Records;
    this.batches.push(records.map((record) => tagOf(record) ?? '?'));
    this.inFlight += 1;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      return await this.answer(records, this.batches.length);
    } finally {
      this.inFlight -= 1;
    }
  };
}

const failure = (message = 'boom'): Invocation => ({
  ok: false,
  error: { kind: 'error', name: 'Error', message },
});

const running: StreamEventSourceMapping[] = [];
let logs: string[] = [];

function start(
  fn: FakeFunction,
  overrides: Partial<EventSourceMappingModel> = {},
  now?: () => number,
): StreamEventSourceMapping {
  const mapping = new StreamEventSourceMapping({
    mapping: mappingOf(overrides),
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:PresenceFn',
    invoke: fn.invoke,
    log: (line) => logs.push(line),
    retryDelayMs: 5,
    retryMaxDelayMs: 20,
    ...(now === undefined ? {} : { now }),
  });
  running.push(mapping);
  return mapping;
}

const idle = (mapping: StreamEventSourceMapping) =>
  within(mapping.idle(), 3000, 'the mapping to deliver everything');

afterEach(async () => {
  await Promise.all(running.splice(0).map((mapping) => mapping.stop()));
  logs = [];
});

describe('an event source mapping from a DynamoDB stream', () => {
  it('delivers records as { Records } in stream order, at most BatchSize at a time', async () => {
    const fn = new FakeFunction();
    const mapping = start(fn, { batchSize: 2 });

    for (const tag of ['1', '2', '3', '4', '5']) mapping.push(change('room#a', tag));
    await idle(mapping);

    expect(fn.batches).toEqual([['1', '2'], ['3', '4'], ['5']]);
  });

  it('drops the records no filter matches and delivers the rest', async () => {
    const fn = new FakeFunction();
    const mapping = start(fn, { filters: [parseFilterPattern('{"eventName":["INSERT"]}')] });

    mapping.push(change('room#a', 'kept'));
    mapping.push(change('room#a', 'dropped', 'MODIFY'));
    mapping.push(change('room#a', 'kept too'));
    await idle(mapping);

    expect(fn.batches.flat()).toEqual(['kept', 'kept too']);
  });

  it('waits up to the batching window for more records, and no longer once the batch is full', async () => {
    const windowed = new FakeFunction();
    const mapping = start(windowed, { batchSize: 3, maximumBatchingWindowInSeconds: 1 });
    const started = Date.now();

    mapping.push(change('room#a', '1'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    mapping.push(change('room#a', '2'));
    await idle(mapping);
    const windowMs = Date.now() - started;

    mapping.push(change('room#a', '3'));
    mapping.push(change('room#a', '4'));
    mapping.push(change('room#a', '5'));
    const fullAt = Date.now();
    await idle(mapping);

    expect(windowed.batches).toEqual([
      ['1', '2'],
      ['3', '4', '5'],
    ]);
    expect(windowMs).toBeGreaterThanOrEqual(950);
    expect(Date.now() - fullAt).toBeLessThan(500);
  });

  it('gathers the next batch while one is in flight, so it goes once the window since that batch has passed', async () => {
    let clock = Date.now();
    let release = () => {};
    const slow = new FakeFunction((_, call) =>
      call === 1
        ? new Promise<Invocation>((resolve) => {
            release = () => resolve({ ok: true, result: null });
          })
        : { ok: true, result: null },
    );
    const mapping = start(slow, { batchSize: 10, maximumBatchingWindowInSeconds: 1 }, () => clock);

    // Gathered for a window already: it goes at once.
    mapping.push(change('room#a', '1', 'INSERT', clock - 1_000));
    await within(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (slow.batches.length === 1) resolve(clearInterval(check));
        }, 5);
      }),
      3000,
      'the first batch',
    );
    mapping.push(change('room#a', '2', 'INSERT', clock));
    // The first batch has been in flight for longer than the window.
    clock += 2_000;
    const releasedAt = Date.now();
    release();
    await idle(mapping);

    expect(slow.batches).toEqual([['1'], ['2']]);
    expect(Date.now() - releasedAt).toBeLessThan(500);
  });

  it('spreads partition keys over ParallelizationFactor lanes, each key in one lane and in order', async () => {
    const fn = new FakeFunction(async (records) => {
      // Uneven work, so lanes overtake each other.
      await new Promise((resolve) => setTimeout(resolve, 2 + (records.length % 3) * 3));
      return { ok: true, result: null };
    });
    const mapping = start(fn, { parallelizationFactor: 3, batchSize: 2 });
    const rooms = ['room#a', 'room#b', 'room#c', 'room#d', 'room#e', 'room#f'];

    for (let round = 0; round < 6; round++) {
      for (const room of rooms) mapping.push(change(room, `${room}/${round}`));
    }
    await idle(mapping);

    for (const room of rooms) {
      const seen = fn.batches.flat().filter((tag) => tag.startsWith(`${room}/`));
      expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((round) => `${room}/${round}`));
    }
    expect(fn.mostInFlight).toBeGreaterThan(1);
    expect(fn.mostInFlight).toBeLessThanOrEqual(3);
  });

  it('retries a failed batch, whole and in order, until the function takes it', async () => {
    const fn = new FakeFunction((_, call) => (call <= 2 ? failure() : { ok: true, result: null }));
    const mapping = start(fn);

    mapping.push(change('room#a', '1'));
    mapping.push(change('room#a', '2'));
    await idle(mapping);

    expect(fn.batches).toEqual([
      ['1', '2'],
      ['1', '2'],
      ['1', '2'],
    ]);
    expect(logs).toEqual([
      'PresenceMapping (PresenceFn): batch of 2 failed (Error: boom); retry 1 in 5 ms',
      'PresenceMapping (PresenceFn): batch of 2 failed (Error: boom); retry 2 in 10 ms',
    ]);
  });

  it('skips a batch after MaximumRetryAttempts, logs it with its on-failure record, and goes on', async () => {
    const fn = new FakeFunction((records) =>
      tagOf(records[0] as DynamoDBStreamRecord) === 'poison'
        ? failure()
        : { ok: true, result: null },
    );
    const mapping = start(fn, {
      batchSize: 1,
      maximumRetryAttempts: 2,
      onFailure: 'FailedPresence (AWS::SQS::Queue)',
    });

    mapping.push(change('room#a', 'poison'));
    mapping.push(change('room#a', 'next'));
    await idle(mapping);

    expect(fn.batches).toEqual([['poison'], ['poison'], ['poison'], ['next']]);
    expect(logs).toContainEqual(
      expect.stringMatching(
        /^PresenceMapping \(PresenceFn\): skipped 1 record \(\d+\) after 2 retries/,
      ),
    );
    const destination = logs.find((line) => line.includes('on-failure destination'));
    const record = JSON.parse(destination?.slice(destination.indexOf('{')) ?? '{}');
    expect(record).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { functionError: 'Unhandled' },
      DDBStreamBatchInfo: { batchSize: 1, streamArn: STREAM_ARN },
    });
  });

  it('with ReportBatchItemFailures, retries from the lowest reported record only', async () => {
    const fn = new FakeFunction((records, call) => {
      if (call > 1) return { ok: true, result: { batchItemFailures: [] } };
      const sequenceOf = (tag: string) =>
        records.find((record) => tagOf(record) === tag)?.dynamodb.SequenceNumber;
      return {
        ok: true,
        result: {
          batchItemFailures: [
            { itemIdentifier: sequenceOf('4') },
            { itemIdentifier: sequenceOf('3') },
          ],
        },
      };
    });
    const mapping = start(fn, { reportBatchItemFailures: true });

    for (const tag of ['1', '2', '3', '4', '5']) mapping.push(change('room#a', tag));
    await idle(mapping);

    expect(fn.batches).toEqual([
      ['1', '2', '3', '4', '5'],
      ['3', '4', '5'],
    ]);
  });

  it('with ReportBatchItemFailures, takes a null answer as success and fails a batch on an invalid one', async () => {
    const answers: unknown[] = [{ batchItemFailures: [{ itemIdentifier: '' }] }, null];
    const fn = new FakeFunction(() => ({ ok: true, result: answers.shift() }));
    const mapping = start(fn, { reportBatchItemFailures: true });

    mapping.push(change('room#a', '1'));
    mapping.push(change('room#a', '2'));
    await idle(mapping);

    expect(fn.batches).toEqual([
      ['1', '2'],
      ['1', '2'],
    ]);
    expect(logs).toEqual([expect.stringContaining('invalid partial batch response')]);
  });

  it('ignores a partial batch answer without ReportBatchItemFailures', async () => {
    const fn = new FakeFunction(() => ({
      ok: true,
      result: { batchItemFailures: [{ itemIdentifier: 'anything' }] },
    }));
    const mapping = start(fn);

    mapping.push(change('room#a', '1'));
    await idle(mapping);

    expect(fn.batches).toEqual([['1']]);
  });

  it('with BisectBatchOnFunctionError, splits failing batches until the failing record stands alone', async () => {
    const fn = new FakeFunction((records) =>
      records.some((record) => tagOf(record) === '3') ? failure() : { ok: true, result: null },
    );
    const mapping = start(fn, { bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 });

    for (const tag of ['1', '2', '3', '4']) mapping.push(change('room#a', tag));
    await idle(mapping);

    expect(fn.batches).toEqual([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['3'], ['4']]);
    expect(logs).toContainEqual(expect.stringContaining('skipped 1 record'));
  });

  it('skips records older than MaximumRecordAgeInSeconds without invoking the function', async () => {
    const fn = new FakeFunction();
    const now = Date.now();
    const mapping = start(fn, { maximumRecordAgeInSeconds: 60 }, () => now);

    mapping.push(change('room#a', 'stale', 'INSERT', now - 61_000));
    mapping.push(change('room#a', 'fresh', 'INSERT', now - 59_000));
    await idle(mapping);

    expect(fn.batches).toEqual([['fresh']]);
    expect(logs).toEqual([expect.stringMatching(/skipped 1 record \(\d+\) older than 60 s/)]);
  });

  it('stops mid-retry at once, and is idle once stopped', async () => {
    const fn = new FakeFunction(() => failure());
    const mapping = new StreamEventSourceMapping({
      mapping: mappingOf(),
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:PresenceFn',
      invoke: fn.invoke,
      log: (line) => logs.push(line),
      retryDelayMs: 60_000,
      retryMaxDelayMs: 60_000,
    });
    mapping.push(change('room#a', '1'));
    await expect.poll(() => fn.batches.length, { timeout: 2000 }).toBe(1);

    await within(mapping.stop(), 1000, 'the mapping to stop');

    await within(mapping.idle(), 100, 'a stopped mapping to be idle');
    expect(fn.batches).toHaveLength(1);
  });
});
