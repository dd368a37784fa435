import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../../local/local-stack.js';
import { Meter } from '../../../local/metering/meter.js';
import { type MiniAssembly, tableResource, writeMiniAssembly } from '../support/mini-assembly.js';
import { within } from '../support/wait.js';

// Writes the items an event lists, one after the other, trying each write
// twice at once (the SDK's own retries wait a random while).
const WRITER = `
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({ maxAttempts: 1 });
export const handler = async (event) => {
  for (const { op, sk, v } of event.ops) {
    const Key = { pk: { S: 'room#a' }, sk: { S: sk } };
    const write = () => client.send(op === 'put'
      ? new PutItemCommand({ TableName: process.env.TABLE, Item: { ...Key, v: { S: v } } })
      : new DeleteItemCommand({ TableName: process.env.TABLE, Key }));
    await write().catch(write);
  }
  return 'written';
};`;

// Fails its first invocation, then logs what it got.
const PROBE = `
let calls = 0;
export const handler = async (event) => {
  calls += 1;
  if (calls === 1) throw new Error('first attempt fails');
  const seen = event.Records.map((r) => [r.eventName, r.dynamodb.Keys.sk.S, r.dynamodb.NewImage?.v?.S ?? null]);
  console.log('records ' + JSON.stringify(seen));
  return { batchItemFailures: [] };
};`;

const FLAKY = `export const handler = async () => { throw new Error('always'); };`;

// Reads the table (its client tries once, so a fault fails the invocation), then logs what it got.
const READER = `
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({ maxAttempts: 1 });
export const handler = async (event) => {
  await client.send(new GetItemCommand({ TableName: process.env.TABLE, Key: { pk: { S: 'room#a' }, sk: { S: 'member' } } }));
  const seen = event.Records.map((r) => [r.eventName, r.dynamodb.Keys.sk.S, r.dynamodb.NewImage?.v?.S ?? null]);
  console.log('records ' + JSON.stringify(seen));
};`;

/** A template whose Writer writes to a streamed table that a mapping feeds to `consumer`. */
function assemblyWith(consumer: string, mappingProperties: Record<string, unknown> = {}) {
  return writeMiniAssembly({
    nodeModules: true,
    functions: [
      {
        logicalId: 'WriterFn',
        name: 'WriterHandler',
        code: WRITER,
        environment: { TABLE: { Ref: 'Rooms' } },
      },
      {
        logicalId: 'ProbeFn',
        name: 'ProbeHandler',
        code: consumer,
        environment: { TABLE: { Ref: 'Rooms' } },
      },
      { logicalId: 'FlakyFn', name: 'FlakyHandler', code: FLAKY },
    ],
    resources: {
      Rooms: tableResource('NEW_AND_OLD_IMAGES'),
      Members: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Rooms', 'StreamArn'] },
          FunctionName: { Ref: 'ProbeFn' },
          StartingPosition: 'LATEST',
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          MaximumRetryAttempts: 3,
          FilterCriteria: {
            Filters: [{ Pattern: '{"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"member#"}]}}}}' }],
          },
          ...mappingProperties,
        },
      },
      FlakyInvokeConfig: {
        Type: 'AWS::Lambda::EventInvokeConfig',
        Properties: {
          FunctionName: { Ref: 'FlakyFn' },
          Qualifier: '$LATEST',
          MaximumRetryAttempts: 1,
        },
      },
    },
  });
}

/** A stack on `assembly`, its logs, and a Lambda client for its Invoke API, stopped after the describe. */
function useMiniStack(make: () => MiniAssembly, options: Partial<LocalStackOptions> = {}) {
  const running: { stack?: LocalStack; lambda?: LambdaClient; assembly?: MiniAssembly } = {};
  const logs: string[] = [];
  beforeAll(async () => {
    running.assembly = make();
    running.stack = await startLocalStack({
      assembly: running.assembly.outdir,
      env: {},
      log: (line) => logs.push(line),
      retryDelays: { asyncInvocationMs: [10], streamBatchMs: 10, streamBatchMaxMs: 20 },
      ...options,
    });
    running.lambda = new LambdaClient({
      endpoint: running.stack.lambdaEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    running.lambda?.destroy();
    await running.stack?.stop();
    running.assembly?.remove();
  });
  return {
    logs,
    get stack() {
      if (running.stack === undefined) throw new Error('the stack has not started');
      return running.stack;
    },
    invoke(FunctionName: string, payload: unknown, InvocationType?: 'Event') {
      if (running.lambda === undefined) throw new Error('the stack has not started');
      return running.lambda.send(
        new InvokeCommand({
          FunctionName,
          Payload: JSON.stringify(payload),
          ...(InvocationType === undefined ? {} : { InvocationType }),
        }),
      );
    },
  };
}

/** What the probe logged it received, record by record, once its lines are in. */
function probed(logs: readonly string[]): unknown[] {
  const prefix = '[ProbeHandler] records ';
  return logs
    .filter((line) => line.startsWith(prefix))
    .flatMap((line) => JSON.parse(line.slice(prefix.length)));
}

describe('a local stack with a table stream, an event source mapping and an EventInvokeConfig', () => {
  const meter = new Meter();
  const local = useMiniStack(() => assemblyWith(PROBE), { meter });

  it('delivers the changes a function writes to the mapping’s function in order, retrying its failure', async () => {
    meter.reset();
    await local.invoke('WriterHandler', {
      ops: [
        { op: 'put', sk: 'member#ann', v: '1' },
        { op: 'put', sk: 'member', v: 'head' },
        { op: 'put', sk: 'member#ann', v: '2' },
        { op: 'delete', sk: 'member#ann' },
      ],
    });
    await within(local.stack.streamsIdle(), 5000, 'the stream records to be delivered');

    // Function output reaches the log a moment after the invocation returns.
    await expect
      .poll(() => probed(local.logs), { timeout: 2000 })
      .toEqual([
        ['INSERT', 'member#ann', '1'],
        ['MODIFY', 'member#ann', '2'],
        ['REMOVE', 'member#ann', null],
      ]);
    expect(local.logs).toContainEqual(
      expect.stringMatching(
        /^Members \(ProbeFn\): batch of \d failed \(Error: first attempt fails\); retry 1/,
      ),
    );
    // The capture's own reads are not the functions' requests: the meter sees the writes only.
    expect(meter.snapshot().dynamoCalls).toEqual({ PutItem: 3, DeleteItem: 1 });
  });

  it('retries a failed Event invocation as its EventInvokeConfig says, and waits for it when idle', async () => {
    meter.reset();
    const answer = await local.invoke('FlakyHandler', {}, 'Event');
    expect(answer.StatusCode).toBe(202);

    await within(local.stack.streamsIdle(), 5000, 'the asynchronous invocation to be discarded');

    expect(meter.snapshot().invocations.FlakyHandler?.count).toBe(2);
    expect(local.logs).toContain(
      'FlakyHandler (Event) failed: always; discarded the event after 2 attempts',
    );
  });
});

describe('a local stack with a table stream under DynamoDB fault injection', () => {
  // Requests of the functions, in order: bob's put passes, carl's put fails and
  // passes when tried again, the reader's first read fails, its second passes.
  const draws = [0.9, 0.1, 0.9, 0.1];
  const local = useMiniStack(() => assemblyWith(READER, { MaximumBatchingWindowInSeconds: 1 }), {
    faults: { dynamoRate: 0.5, random: () => draws.shift() ?? 0.9 },
  });

  it('records a write once though a faulted attempt preceded it, and retries the batch whose function failed', async () => {
    await local.invoke('WriterHandler', {
      ops: [
        { op: 'put', sk: 'member#bob', v: '1' },
        { op: 'put', sk: 'member#carl', v: '1' },
      ],
    });
    await within(local.stack.streamsIdle(), 5000, 'the stream records to be delivered');

    await expect
      .poll(() => probed(local.logs), { timeout: 2000 })
      .toEqual([
        ['INSERT', 'member#bob', '1'],
        ['INSERT', 'member#carl', '1'],
      ]);
    expect(local.stack.faults).toMatchObject({ dynamoThrottled: 1, dynamoServerErrors: 1 });
    expect(local.logs).toContainEqual(
      expect.stringMatching(
        /^Members \(ProbeFn\): batch of 2 failed \(InternalServerError: .*\); retry 1/,
      ),
    );
  });
});
