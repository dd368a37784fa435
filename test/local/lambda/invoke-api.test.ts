import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ASYNC_INVOKE } from '../../../local/assembly/event-sources.js';
import type { Invocation } from '../../../local/gateway/invoker.js';
import { AsyncInvocations } from '../../../local/lambda/async-invocations.js';
import {
  functionIdResolver,
  handleInvokeRequest,
  INVOKE_LIMITS,
} from '../../../local/lambda/invoke-api.js';
import { type LoopbackServer, serveOnLoopback } from '../support/http.js';

// The Invoke API is exercised with the real SDK client, so what the functions
// and the publish helper send and parse is what is tested.
const FUNCTIONS = new Map([
  ['EchoHandlerAB12', { name: 'EchoHandler' }],
  ['FailHandlerCD34', { name: 'FailHandler' }],
]);

let server: LoopbackServer;
let client: LambdaClient;
let invoked: { functionId: string; event: unknown }[];
let logged: string[];

async function invoke(functionId: string, event: unknown): Promise<Invocation> {
  invoked.push({ functionId, event });
  if (functionId === 'FailHandlerCD34') {
    return { ok: false, error: { kind: 'error', name: 'TypeError', message: 'broken' } };
  }
  return { ok: true, result: { echoed: event } };
}

beforeAll(async () => {
  const log = (line: string) => logged.push(line);
  const queue = new AsyncInvocations({
    invoke,
    functionOf: (functionId) => {
      const fn = FUNCTIONS.get(functionId);
      return fn && { name: fn.name, arn: functionId, asyncInvoke: DEFAULT_ASYNC_INVOKE };
    },
    log,
    retryDelaysMs: [5, 10],
  });
  server = await serveOnLoopback((request, response) =>
    handleInvokeRequest(
      {
        functionIdOf: functionIdResolver(FUNCTIONS),
        invoke,
        queueEvent: (functionId, event) => queue.enqueue(functionId, event),
        log,
      },
      request,
      response,
    ),
  );
  client = new LambdaClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

beforeEach(() => {
  invoked = [];
  logged = [];
});

const payloadOf = (bytes: Uint8Array | undefined) =>
  JSON.parse(new TextDecoder().decode(bytes)) as unknown;

describe('the local Lambda Invoke API', () => {
  it('runs a RequestResponse invocation and answers with its result', async () => {
    const output = await client.send(
      new InvokeCommand({ FunctionName: 'EchoHandlerAB12', Payload: JSON.stringify({ n: 1 }) }),
    );

    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(payloadOf(output.Payload)).toEqual({ echoed: { n: 1 } });
  });

  it('answers a failed function with FunctionError Unhandled and its error type and message', async () => {
    const output = await client.send(
      new InvokeCommand({ FunctionName: 'FailHandlerCD34', Payload: '{}' }),
    );

    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(payloadOf(output.Payload)).toEqual({ errorType: 'TypeError', errorMessage: 'broken' });
    // Lambda would have the failure in the function's log; the local stack prints it.
    expect(logged).toEqual(['FailHandlerCD34 failed: TypeError: broken']);
  });

  it('finds a function by full ARN, partial ARN and construct id', async () => {
    for (const name of [
      'arn:aws:lambda:us-east-1:000000000000:function:EchoHandlerAB12',
      '000000000000:function:EchoHandlerAB12',
      'EchoHandler',
    ]) {
      await client.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
    }

    expect(invoked.map((call) => call.functionId)).toEqual([
      'EchoHandlerAB12',
      'EchoHandlerAB12',
      'EchoHandlerAB12',
    ]);
  });

  it('refuses an unknown function with ResourceNotFoundException and invokes nothing', async () => {
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'NoSuchHandler', Payload: '{}' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(invoked).toEqual([]);
  });

  it('refuses a payload that is not JSON with InvalidRequestContentException', async () => {
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'EchoHandler', Payload: '{not json' })),
    ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
    expect(invoked).toEqual([]);
  });

  it('refuses an Event payload over 1 MB with RequestTooLargeException', async () => {
    const big = JSON.stringify({ data: 'x'.repeat(INVOKE_LIMITS.eventBytes) });

    await expect(
      client.send(
        new InvokeCommand({ FunctionName: 'EchoHandler', InvocationType: 'Event', Payload: big }),
      ),
    ).rejects.toMatchObject({
      name: 'RequestTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    expect(invoked).toEqual([]);
  });

  it('answers an Event invocation with 202 and runs the function', async () => {
    const output = await client.send(
      new InvokeCommand({
        FunctionName: 'EchoHandler',
        InvocationType: 'Event',
        Payload: JSON.stringify({ n: 2 }),
      }),
    );

    expect(output.StatusCode).toBe(202);
    await expect
      .poll(() => invoked, { timeout: 2_000 })
      .toEqual([{ functionId: 'EchoHandlerAB12', event: { n: 2 } }]);
  });

  it('retries a failed Event invocation twice, logging each failure, since nobody waits for it', async () => {
    await client.send(
      new InvokeCommand({ FunctionName: 'FailHandler', InvocationType: 'Event', Payload: '{}' }),
    );

    await expect
      .poll(() => logged, { timeout: 2_000 })
      .toEqual([
        'FailHandler (Event) failed: broken; retry 1 of 2 in 5 ms',
        'FailHandler (Event) failed: broken; retry 2 of 2 in 10 ms',
        'FailHandler (Event) failed: broken; discarded the event after 3 attempts',
      ]);
    expect(invoked.map((call) => call.functionId)).toEqual([
      'FailHandlerCD34',
      'FailHandlerCD34',
      'FailHandlerCD34',
    ]);
  });

  it('answers DryRun with 204 without running the function', async () => {
    const output = await client.send(
      new InvokeCommand({ FunctionName: 'EchoHandler', InvocationType: 'DryRun' }),
    );

    expect(output.StatusCode).toBe(204);
    expect(invoked).toEqual([]);
  });
});
