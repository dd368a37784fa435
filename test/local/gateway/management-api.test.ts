import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagementApiNotifier } from '../../../lambdas/adapters/management-api-notifier.js';
import { FaultInjector } from '../../../local/faults/fault-injector.js';
import { GatewayHarness, STAGE, succeed } from '../support/gateway-harness.js';
import { httpRequest } from '../support/http.js';
import { until } from '../support/wait.js';

let harness: GatewayHarness | undefined;
let sdk: ApiGatewayManagementApiClient | undefined;

afterEach(async () => {
  sdk?.destroy();
  sdk = undefined;
  await harness?.close();
  harness = undefined;
});

async function start(): Promise<GatewayHarness> {
  harness = await GatewayHarness.start({
    routes: { $connect: {}, $disconnect: {}, $default: { twoWay: true } },
  });
  return harness;
}

/** The SDK client pointed at the harness's stage, as a handler builds it from CALLBACK_URL. */
function sdkClient(api: GatewayHarness): ApiGatewayManagementApiClient {
  sdk = new ApiGatewayManagementApiClient({
    endpoint: `${api.httpUrl}/${STAGE}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return sdk;
}

const UNKNOWN_ID = 'AAAAAAAAAAAAAAA=';

describe('management API', () => {
  it('delivers a POST to the connection as a text frame', async () => {
    const api = await start();
    const client = await api.connect();

    const answer = await httpRequest('POST', api.connectionUrl(api.lastConnectionId()), '{"n":1}');

    expect(answer.status).toBe(200);
    expect(await client.next()).toEqual({ text: '{"n":1}', binary: false });
  });

  // The service model names the members on the wire connectedAt, identity.sourceIp and
  // lastActiveAt (ISO 8601); ConnectedAt and friends are the SDKs' names for them
  // (aws-sdk apis/apigatewaymanagementapi-2018-11-29: locationName of each member).
  it('describes a connection on GET with connectedAt, identity.sourceIp and lastActiveAt', async () => {
    const api = await start();
    const before = Date.now();
    await api.connect();

    const answer = await httpRequest('GET', api.connectionUrl(api.lastConnectionId()));

    expect(answer.status).toBe(200);
    const description = JSON.parse(answer.body) as Record<string, unknown>;
    expect(description).toMatchObject({
      connectedAt: expect.any(String),
      identity: { sourceIp: '127.0.0.1' },
      lastActiveAt: expect.any(String),
    });
    const connectedAt = Date.parse(String(description.connectedAt));
    expect(connectedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(connectedAt).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(String(description.lastActiveAt))).toBeGreaterThanOrEqual(connectedAt);
  });

  it('closes the socket on DELETE and fires $disconnect', async () => {
    const api = await start();
    const client = await api.connect();
    const connectionId = api.lastConnectionId();

    const answer = await httpRequest('DELETE', api.connectionUrl(connectionId));

    expect(answer.status).toBe(204);
    await client.closeStatus();
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');
    expect(api.eventsOf('$disconnect')[0]?.requestContext.connectionId).toBe(connectionId);
  });

  it.each(['POST', 'GET', 'DELETE'])(
    'answers %s for an unknown connection with 410 GoneException and a JSON message',
    async (method) => {
      const api = await start();

      const answer = await httpRequest(method, api.connectionUrl(UNKNOWN_ID), '{}');

      expect(answer.status).toBe(410);
      expect(answer.headers['x-amzn-errortype']).toBe('GoneException');
      expect(JSON.parse(answer.body)).toEqual({ message: expect.any(String) });
    },
  );

  it('answers a POST over 128 KiB with 413 and delivers nothing', async () => {
    const api = await start();
    const client = await api.connect();

    const answer = await httpRequest(
      'POST',
      api.connectionUrl(api.lastConnectionId()),
      'x'.repeat(128 * 1024 + 1),
    );

    expect(answer.status).toBe(413);
    await client.flush();
    expect(client.frames).toEqual([]);
  });

  it('delivers a POST of exactly 128 KiB', async () => {
    const api = await start();
    const client = await api.connect();

    const answer = await httpRequest(
      'POST',
      api.connectionUrl(api.lastConnectionId()),
      'x'.repeat(128 * 1024),
    );

    expect(answer.status).toBe(200);
    expect((await client.next()).text).toHaveLength(128 * 1024);
  });

  it('answers 410 to a POST to a connection during its own $connect', async () => {
    const statuses: number[] = [];
    harness = await GatewayHarness.start({
      routes: {
        $connect: {
          handler: async (event) => {
            const url = harness?.connectionUrl(event.requestContext.connectionId) ?? '';
            statuses.push((await httpRequest('POST', url, '{"early":true}')).status);
            return succeed({ statusCode: 200 });
          },
        },
        $disconnect: {},
      },
    });

    const client = await harness.connect();

    expect(statuses).toEqual([410]);
    await client.flush();
    expect(client.frames).toEqual([]);
  });

  it('delivers PostToConnectionCommand from the AWS SDK client', async () => {
    const api = await start();
    const client = await api.connect();

    await sdkClient(api).send(
      new PostToConnectionCommand({
        ConnectionId: api.lastConnectionId(),
        Data: new TextEncoder().encode('{"via":"sdk"}'),
      }),
    );

    expect(await client.next()).toEqual({ text: '{"via":"sdk"}', binary: false });
  });

  it('makes the AWS SDK client throw GoneException for an unknown connection', async () => {
    const api = await start();

    const sent = sdkClient(api).send(
      new PostToConnectionCommand({ ConnectionId: UNKNOWN_ID, Data: new Uint8Array([123, 125]) }),
    );

    await expect(sent).rejects.toBeInstanceOf(GoneException);
  });

  it('describes a connection through the AWS SDK client (ConnectedAt, Identity.SourceIp, LastActiveAt)', async () => {
    const api = await start();
    await api.connect();

    const description = await sdkClient(api).send(
      new GetConnectionCommand({ ConnectionId: api.lastConnectionId() }),
    );

    expect(description.ConnectedAt).toBeInstanceOf(Date);
    expect(description.Identity?.SourceIp).toBe('127.0.0.1');
    expect(description.LastActiveAt).toBeInstanceOf(Date);
  });
});

describe('management API with injected faults', () => {
  async function startFaulty(faults: FaultInjector): Promise<GatewayHarness> {
    harness = await GatewayHarness.start({
      routes: { $connect: {}, $disconnect: {}, $default: { twoWay: true } },
      faultOf: () => faults.management(),
    });
    return harness;
  }

  it('answers a POST the hook fails with 429 LimitExceededException and delivers nothing', async () => {
    const api = await startFaulty(new FaultInjector({ managementRate: 1 }));
    const client = await api.connect();

    const answer = await httpRequest('POST', api.connectionUrl(api.lastConnectionId()), '{"n":1}');

    expect(answer.status).toBe(429);
    expect(answer.headers['x-amzn-errortype']).toBe('LimitExceededException');
    expect(JSON.parse(answer.body)).toEqual({ message: expect.any(String) });
    await client.flush();
    expect(client.frames).toEqual([]);
  });

  it('answers a DELETE the hook fails with 500 and leaves the connection open', async () => {
    const faults = new FaultInjector({ managementRate: 1 });
    const api = await startFaulty(faults);
    const client = await api.connect();
    const connectionId = api.lastConnectionId();
    faults.management(); // the 429 of the alternation: the next fault is the 500

    const answer = await httpRequest('DELETE', api.connectionUrl(connectionId));

    expect(answer.status).toBe(500);
    // The socket still answers pings: it is open, and nothing closed it meanwhile.
    await client.flush();
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    expect(api.eventsOf('$disconnect')).toEqual([]);
  });

  it("makes the functions' notifier retry a 429 and a 500 once each and deliver exactly once", async () => {
    const draws = [0, 0];
    const api = await startFaulty(
      new FaultInjector({ managementRate: 0.5, random: () => draws.shift() ?? 1 }),
    );
    const client = await api.connect();
    const notifier = new ManagementApiNotifier(sdkClient(api), {
      attempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 1,
    });

    const delivery = await notifier.post(api.lastConnectionId(), '{"once":true}');

    expect(delivery).toBe('delivered');
    expect(notifier.retries).toBe(2);
    expect(await client.next()).toEqual({ text: '{"once":true}', binary: false });
    await client.flush();
    expect(client.frames).toHaveLength(1);
  });
});
