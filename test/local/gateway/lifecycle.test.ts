import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayLimits } from '../../../local/gateway/websocket-gateway.js';
import { allow, GatewayHarness, succeed } from '../support/gateway-harness.js';
import { httpRequest } from '../support/http.js';
import { sleep, until, within } from '../support/wait.js';

let harness: GatewayHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(limits: Partial<GatewayLimits> = {}): Promise<GatewayHarness> {
  harness = await GatewayHarness.start({
    routes: { $connect: {}, $disconnect: {}, $default: { twoWay: true } },
    authorizer: () => succeed(allow('user-1')),
    limits,
  });
  return harness;
}

describe('$disconnect', () => {
  it("reports the client's close code and reason to $disconnect", async () => {
    const api = await start();
    const client = await api.connect('token=abc');

    client.socket.close(4000, 'bye now');
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');

    expect(api.eventsOf('$disconnect')[0]?.requestContext).toMatchObject({
      disconnectStatusCode: 4000,
      disconnectReason: 'bye now',
    });
  });

  it('marks the $disconnect event with routeKey $disconnect, eventType DISCONNECT and the connection id', async () => {
    const api = await start();
    const client = await api.connect('token=abc');
    const connectionId = api.lastConnectionId();

    client.socket.close(1000);
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');

    expect(api.eventsOf('$disconnect')[0]?.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      connectionId,
    });
  });
});

describe('lost $disconnect (fault injection)', () => {
  async function startLosing(lost: () => boolean): Promise<GatewayHarness> {
    harness = await GatewayHarness.start({
      routes: { $connect: {}, $disconnect: {}, $default: { twoWay: true } },
      authorizer: () => succeed(allow('user-1')),
      disconnectLost: lost,
    });
    return harness;
  }

  it('skips $disconnect of a client that vanished without a close frame when the hook says so', async () => {
    const api = await startLosing(() => true);
    const client = await api.connect('token=abc');
    const connectionId = api.lastConnectionId();

    client.socket.terminate();
    await until(() => !api.gateway.connections.has(connectionId), 'the connection to end');
    // The close handler forgets the connection and starts its $disconnect in one step.
    await api.gateway.idle();

    expect(api.eventsOf('$disconnect')).toEqual([]);
  });

  it('answers 410 at once to a POST to a connection whose $disconnect was lost', async () => {
    const api = await startLosing(() => true);
    const client = await api.connect('token=abc');
    const connectionId = api.lastConnectionId();

    client.socket.terminate();
    await until(() => !api.gateway.connections.has(connectionId), 'the connection to end');

    expect((await httpRequest('POST', api.connectionUrl(connectionId), '{}')).status).toBe(410);
  });

  it('still invokes $disconnect on a clean close, without asking the hook', async () => {
    let asked = 0;
    const api = await startLosing(() => {
      asked++;
      return true;
    });
    const client = await api.connect('token=abc');

    client.socket.close(1000);
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');

    expect(asked).toBe(0);
  });

  it('invokes $disconnect of a vanished client when the hook keeps it', async () => {
    const api = await startLosing(() => false);
    const client = await api.connect('token=abc');

    client.socket.terminate();
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');

    expect(api.eventsOf('$disconnect')[0]?.requestContext.disconnectStatusCode).toBe(1006);
  });
});

describe('connection limits', () => {
  it('closes an idle connection with 1001 after the idle timeout', async () => {
    const api = await start({ idleTimeoutMs: 300, maxConnectionMs: 10_000 });
    const client = await api.connect('token=abc');
    const opened = Date.now();

    const status = await client.closeStatus(3000);

    expect(status.code).toBe(1001);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
  });

  it('keeps a connection open while frames arrive within the idle timeout', async () => {
    // A frame every 100 ms for twice the idle timeout: a stall of this
    // process under 500 ms cannot close it.
    const api = await start({ idleTimeoutMs: 600, maxConnectionMs: 10_000 });
    const client = await api.connect('token=abc');

    for (let i = 0; i < 12; i += 1) {
      await sleep(100);
      client.socket.send('{"action":"keepalive"}');
    }

    expect(client.socket.readyState).toBe(client.socket.OPEN);
  });

  it('closes a connection with 1001 at its maximum duration, even while it is active', async () => {
    // Idle longer than the maximum: only the maximum can close it at 600 ms.
    const api = await start({ idleTimeoutMs: 1000, maxConnectionMs: 600 });
    const client = await api.connect('token=abc');
    const opened = Date.now();
    const keepAlive = setInterval(() => {
      if (client.socket.readyState === client.socket.OPEN) client.socket.send('{}');
    }, 100);

    try {
      const status = await client.closeStatus(3000);

      expect(status.code).toBe(1001);
      expect(Date.now() - opened).toBeGreaterThanOrEqual(550);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('reports a connection closed by the idle timeout to $disconnect with 1001', async () => {
    const api = await start({ idleTimeoutMs: 300, maxConnectionMs: 10_000 });
    const client = await api.connect('token=abc');

    await client.closeStatus(3000);
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');

    expect(api.eventsOf('$disconnect')[0]?.requestContext.disconnectStatusCode).toBe(1001);
  });
});

describe('close()', () => {
  it('closes open sockets with 1001', async () => {
    const api = await start();
    const clients = [await api.connect('token=a'), await api.connect('token=b')];

    await within(api.gateway.close(), 8000, 'the gateway to close');

    const statuses = await Promise.all(clients.map((client) => client.closeStatus()));
    expect(statuses.map((status) => status.code)).toEqual([1001, 1001]);
  });

  it('waits for the $disconnect of every open socket', async () => {
    const finished: string[] = [];
    harness = await GatewayHarness.start({
      routes: {
        $connect: {},
        $disconnect: {
          handler: async (event) => {
            await sleep(150);
            finished.push(event.requestContext.connectionId);
            return succeed();
          },
        },
      },
    });
    await harness.connect();
    const connectionId = harness.lastConnectionId();

    await within(harness.gateway.close(), 8000, 'the gateway to close');

    expect(finished).toEqual([connectionId]);
  });

  it('with disconnects: false closes every socket without invoking $disconnect', async () => {
    const api = await start();
    const clients = [await api.connect('token=a'), await api.connect('token=b')];

    await within(api.gateway.close({ disconnects: false }), 8000, 'the gateway to close');

    const statuses = await Promise.all(clients.map((client) => client.closeStatus()));
    expect(statuses.map((status) => status.code)).toEqual([1001, 1001]);
    expect(api.eventsOf('$disconnect')).toEqual([]);
    expect(api.gateway.connections.size).toBe(0);
  });
});
