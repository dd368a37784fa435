import { afterEach, describe, expect, it } from 'vitest';
import type { RequestReport } from '../../../local/gateway/request-report.js';
import {
  allow,
  deny,
  type FakeFunction,
  type FakeRoute,
  fail,
  GatewayHarness,
  succeed,
} from '../support/gateway-harness.js';
import { until } from '../support/wait.js';

let harness: GatewayHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ALICE = allow('alice', { name: 'Alice' });

/** An API whose reports go to the returned array. */
async function start(
  options: { authorizer?: FakeFunction; routes?: Record<string, FakeRoute> } = {},
): Promise<{ api: GatewayHarness; reports: RequestReport[] }> {
  const reports: RequestReport[] = [];
  harness = await GatewayHarness.start({
    routes: {
      $connect: {},
      $disconnect: {},
      $default: { twoWay: true },
      join: {
        twoWay: true,
        handler: () => succeed({ statusCode: 200, body: '{"type":"joined"}' }),
      },
      ...options.routes,
    },
    authorizer: options.authorizer ?? (() => succeed(ALICE)),
    requests: (report) => reports.push(report),
  });
  return { api: harness, reports };
}

/** The reports of `route` once there are `count`, within the wait's bound. */
async function reportsOf(reports: RequestReport[], route: string, count = 1) {
  const of = () => reports.filter((report) => report.route === route);
  await until(() => of().length >= count, `${count} report(s) of ${route}`);
  return of();
}

describe('request reports of the gateway', () => {
  it('reports an accepted handshake as $connect ok with the authorizer principal', async () => {
    const { api, reports } = await start();

    await api.connect('token=abc');

    const [report] = await reportsOf(reports, '$connect');
    expect(report).toMatchObject({
      route: '$connect',
      userId: 'alice',
      connectionId: api.lastConnectionId(),
      outcome: { kind: 'ok' },
    });
    expect(report?.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("reports a frame with its route, the connection's user and ok", async () => {
    const { api, reports } = await start();
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'join', room: 'lobby' }));

    const [report] = await reportsOf(reports, 'join');
    expect(report).toMatchObject({ userId: 'alice', outcome: { kind: 'ok' } });
  });

  it('reports the code of an error frame the function answered', async () => {
    const refusal = '{"type":"error","code":"forbidden","message":"No."}';
    const { api, reports } = await start({
      routes: {
        join: { twoWay: true, handler: () => succeed({ statusCode: 200, body: refusal }) },
      },
    });
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'join', room: 'secret' }));

    const [report] = await reportsOf(reports, 'join');
    expect(report?.outcome).toEqual({ kind: 'error', code: 'forbidden' });
  });

  it('reports a handshake without a token as refused by the gateway: no token', async () => {
    const { api, reports } = await start();

    await api.handshake();

    const [report] = await reportsOf(reports, '$connect');
    expect(report?.outcome).toEqual({
      kind: 'refused',
      status: 401,
      by: 'gateway',
      reason: 'no token',
    });
    expect(report?.userId).toBeUndefined();
    expect(api.eventsOf('Authorizer')).toEqual([]);
  });

  it("reports the authorizer's Unauthorized as a 401 refused by the authorizer", async () => {
    const { api, reports } = await start({ authorizer: () => fail('Unauthorized') });

    await api.handshake('token=bad');

    const [report] = await reportsOf(reports, '$connect');
    expect(report?.outcome).toMatchObject({ kind: 'refused', status: 401, by: 'authorizer' });
  });

  it("reports the authorizer's Deny as a 403 refused by the authorizer", async () => {
    const { api, reports } = await start({ authorizer: () => succeed(deny('anonymous')) });

    await api.handshake('token=abc');

    const [report] = await reportsOf(reports, '$connect');
    expect(report?.outcome).toMatchObject({ kind: 'refused', status: 403, by: 'authorizer' });
  });

  it('reports a function that timed out as failed with kind timeout', async () => {
    const timedOut = {
      ok: false as const,
      error: { kind: 'timeout', name: 'Sandbox.Timedout', message: 'Task timed out' },
    };
    const { api, reports } = await start({
      routes: { join: { twoWay: true, handler: () => timedOut } },
    });
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'join', room: 'lobby' }));

    const [report] = await reportsOf(reports, 'join');
    expect(report?.outcome).toEqual({ kind: 'failed', error: timedOut.error });
  });

  it('reports $disconnect with the user once the client closed', async () => {
    const { api, reports } = await start();
    const client = await api.connect('token=abc');

    client.socket.close(1000);

    const [report] = await reportsOf(reports, '$disconnect');
    expect(report).toMatchObject({ userId: 'alice', outcome: { kind: 'ok' } });
  });
});
