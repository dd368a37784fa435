import { describe, expect, it } from 'vitest';
import {
  createLocalConsole,
  type LocalConsoleOptions,
} from '../../../local/console/local-console.js';
import type { RequestReport } from '../../../local/gateway/request-report.js';
import { until } from '../support/wait.js';

/** Lines as a local stack logged them (npm start, 2026-12-03). */
const METRICS =
  '[SendHandler] {"_aws":{"Timestamp":1796272065933,"CloudWatchMetrics":[{"Namespace":"Realtime","Dimensions":[["service"]],"Metrics":[{"Name":"FanOutDuration","Unit":"Milliseconds"},{"Name":"MessagesSent","Unit":"Count"},{"Name":"Deliveries","Unit":"Count"}]}]},"service":"Realtime","FanOutDuration":15.803019999999378,"MessagesSent":1,"Deliveries":1}';
const CONNECTION = 'aBSheDI2aao+hqU=';
const REFUSAL_REASON = `[AuthorizerHandler] {"level":"WARN","message":"authorizer: refused: token_invalid: JWS Protected Header is invalid","timestamp":"2026-12-03T04:27:46.129Z","service":"Realtime","cold_start":false,"function_arn":"arn:aws:lambda:us-east-1:000000000000:function:AuthorizerHandler","function_memory_size":"256","function_name":"AuthorizerHandler","function_request_id":"590f5d10-c47a-42e7-b8f4-eb306156a99e","sampling_rate":0,"route":"$connect","connectionId":"${CONNECTION}","requestId":"f23728c7-c2e3-484a-818a-836db79290f0"}`;
const UNAUTHORIZED_TRACE = [
  '[AuthorizerHandler] 590f5d10-c47a-42e7-b8f4-eb306156a99e\tERROR\tInvoke Error\tError: Unauthorized',
  '[AuthorizerHandler]     at <anonymous> (/work/main/lambdas/handlers/authorizer.ts:76:15)',
  '[AuthorizerHandler]     at async ai (/work/main/lambdas/handlers/authorizer.ts:113:12)',
  '[AuthorizerHandler]     at async MessagePort.<anonymous> (file:///work/main/local/runtime/worker.mjs:88:22)',
];
const HANDLER_ERROR = `[JoinHandler] {"level":"ERROR","message":"request failed","timestamp":"2026-12-03T04:27:46.129Z","service":"Realtime","cold_start":true,"function_name":"JoinHandler","function_request_id":"5f0b","sampling_rate":0,"route":"join","connectionId":"${CONNECTION}","requestId":"f237","userId":"alice","error":"TypeError: rooms is not iterable"}`;

/** 04:27:46.129, local time. */
const AT = new Date(2026, 11, 3, 4, 27, 46, 129);

const refused: RequestReport = {
  route: '$connect',
  connectionId: CONNECTION,
  outcome: { kind: 'refused', status: 401, by: 'authorizer', reason: 'Unauthorized' },
  durationMs: 4.2,
};

function consoleWith(options: LocalConsoleOptions = {}) {
  const lines: string[] = [];
  const out = createLocalConsole({ write: (line) => lines.push(line), now: () => AT, ...options });
  return { out, lines };
}

describe('the console for people', () => {
  it('prints a request as one line of time, route, user, duration and outcome', () => {
    const { out, lines } = consoleWith();

    out.request({
      route: 'join',
      connectionId: CONNECTION,
      userId: 'alice',
      outcome: { kind: 'ok' },
      durationMs: 12.4,
    });

    expect(lines).toEqual(['04:27:46.129  join         alice         12 ms  ok']);
  });

  it("prints an error reply's protocol code as the outcome", () => {
    const { out, lines } = consoleWith();

    out.request({
      route: 'send',
      connectionId: CONNECTION,
      userId: 'alice',
      outcome: { kind: 'error', code: 'forbidden' },
      durationMs: 6,
    });

    expect(lines).toEqual(['04:27:46.129  send         alice          6 ms  forbidden']);
  });

  it('prints timed-out and crashed functions as timeout and crashed', () => {
    const { out, lines } = consoleWith();
    const failed = (kind: string, message: string): RequestReport => ({
      route: 'send',
      connectionId: CONNECTION,
      outcome: { kind: 'failed', error: { kind, name: 'x', message } },
      durationMs: 3000,
    });

    out.request(failed('timeout', 'Task timed out after 3.00 seconds'));
    out.request(failed('crash', 'Runtime exited with exit code 1'));

    expect(lines.map((line) => line.split(/ms {2}/)[1])).toEqual([
      'timeout',
      'crashed: Runtime exited with exit code 1',
    ]);
  });

  it('prints no metrics document', () => {
    const { out, lines } = consoleWith();

    out.log(METRICS);

    expect(lines).toEqual([]);
  });

  it("prints a function's log entry as its level, message and own keys", () => {
    const { out, lines } = consoleWith();

    out.log(HANDLER_ERROR);

    expect(lines).toEqual([
      '04:27:46.129  [JoinHandler] ERROR request failed  route=join userId=alice error="TypeError: rooms is not iterable"',
    ]);
  });

  it("prints a refused handshake as one line with the authorizer's reason, reason first", () => {
    const { out, lines } = consoleWith();

    out.log(REFUSAL_REASON);
    for (const line of UNAUTHORIZED_TRACE) out.log(line);
    out.request(refused);

    expect(lines).toEqual([
      '04:27:46.129  $connect                    4 ms  401 refused: token_invalid: JWS Protected Header is invalid',
    ]);
  });

  it("prints a refused handshake as one line with the authorizer's reason, refusal first", () => {
    const { out, lines } = consoleWith();

    out.request(refused);
    out.log(REFUSAL_REASON);
    for (const line of UNAUTHORIZED_TRACE) out.log(line);

    expect(lines).toEqual([
      '04:27:46.129  $connect                    4 ms  401 refused: token_invalid: JWS Protected Header is invalid',
    ]);
  });

  it('prints a refusal alone once its reason has not come within the wait', async () => {
    const { out, lines } = consoleWith({ reasonWaitMs: 20 });

    out.request(refused);
    await until(() => lines.length > 0, 'the refusal to be printed alone', 2000);

    expect(lines).toEqual([
      '04:27:46.129  $connect                    4 ms  401 refused: Unauthorized',
    ]);
  });

  it("keeps a handler's stack trace while leaving out the authorizer's Unauthorized", () => {
    const { out, lines } = consoleWith();

    for (const line of UNAUTHORIZED_TRACE) out.log(line);
    out.log('[SendHandler] 77aa\tERROR\tInvoke Error\tTypeError: boom');
    out.log('[SendHandler]     at send (/work/main/lambdas/domain/requests/send.ts:10:3)');

    expect(lines).toEqual([
      '04:27:46.129  [SendHandler] ERROR Invoke Error: TypeError: boom',
      '04:27:46.129  [SendHandler]     at send (/work/main/lambdas/domain/requests/send.ts:10:3)',
    ]);
  });

  it("prints the local stack's own lines as they are", () => {
    const { out, lines } = consoleWith();

    out.log('join failed: timeout Sandbox.Timedout: Task timed out after 3.00 seconds');

    expect(lines).toEqual([
      'join failed: timeout Sandbox.Timedout: Task timed out after 3.00 seconds',
    ]);
  });

  it('prints every line as written with verbose, and the request lines', () => {
    const { out, lines } = consoleWith({ verbose: true });

    out.log(METRICS);
    out.log(REFUSAL_REASON);
    out.log(UNAUTHORIZED_TRACE[0] ?? '');
    out.request(refused);

    expect(lines).toEqual([
      METRICS,
      REFUSAL_REASON,
      UNAUTHORIZED_TRACE[0],
      '04:27:46.129  $connect                    4 ms  401 refused: Unauthorized',
    ]);
  });
});
