import { afterEach, describe, expect, it } from 'vitest';
import {
  allow,
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

const ALICE = allow('user-1', { userId: 'user-1', name: 'Alice' });

/** An API with `send` (two-way), `typing` (one-way) and, unless replaced, `$default`. */
async function start(routes: Record<string, FakeRoute> = {}): Promise<GatewayHarness> {
  harness = await GatewayHarness.start({
    routes: {
      $connect: {},
      $disconnect: {},
      $default: { twoWay: true, handler: () => succeed({ statusCode: 200 }) },
      send: { twoWay: true },
      typing: {},
      ...routes,
    },
    authorizer: () => succeed(ALICE),
  });
  return harness;
}

/** Routes that were invoked, in order, for frames (not $connect or $disconnect). */
function messageRoutes(api: GatewayHarness): string[] {
  return api.calls
    .map((call) => call.event.requestContext)
    .filter((context) => context.eventType === 'MESSAGE')
    .map((context) => context.routeKey);
}

describe('routing frames', () => {
  it('routes a frame to the route its action names', async () => {
    const api = await start();
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'send', room: 'lobby' }));
    await until(() => api.eventsOf('send').length === 1, 'the send route');

    expect(messageRoutes(api)).toEqual(['send']);
  });

  it("gives a message event the frame's body, a messageId and eventType MESSAGE", async () => {
    const api = await start();
    const client = await api.connect('token=abc');
    const frame = JSON.stringify({ action: 'send', room: 'lobby', data: 'hi' });

    client.socket.send(frame);
    await until(() => api.eventsOf('send').length === 1, 'the send route');

    const [event] = api.eventsOf('send');
    expect(event?.body).toBe(frame);
    expect(event?.requestContext).toMatchObject({
      routeKey: 'send',
      eventType: 'MESSAGE',
      messageId: expect.stringMatching(/.+/),
      connectionId: api.lastConnectionId(),
    });
  });

  it('gives message events no headers and no query string', async () => {
    const api = await start();
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'send' }));
    await until(() => api.eventsOf('send').length === 1, 'the send route');

    const [event] = api.eventsOf('send');
    expect(event).not.toHaveProperty('headers');
    expect(event).not.toHaveProperty('queryStringParameters');
  });

  it("hands the authorizer's context to every route of the connection", async () => {
    const api = await start();
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'send' }));
    client.socket.send('not json');
    await until(() => api.eventsOf('$default').length === 1, 'the $default route');
    client.socket.close(1000);
    await until(() => api.eventsOf('$disconnect').length === 1, 'the $disconnect route');

    const context = { principalId: 'user-1', userId: 'user-1', name: 'Alice' };
    for (const routeKey of ['send', '$default', '$disconnect']) {
      expect(api.eventsOf(routeKey)[0]?.requestContext.authorizer, routeKey).toEqual(context);
    }
  });

  it('falls back to $default for an unknown action', async () => {
    const api = await start();
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'dance' }));
    await until(() => messageRoutes(api).length === 1, 'a route');

    expect(messageRoutes(api)).toEqual(['$default']);
  });

  it('falls back to $default for a frame that is not JSON', async () => {
    const api = await start();
    const client = await api.connect('token=abc');

    client.socket.send('{"action": "send"');
    await until(() => messageRoutes(api).length === 1, 'a route');

    expect(messageRoutes(api)).toEqual(['$default']);
    expect(api.eventsOf('$default')[0]?.body).toBe('{"action": "send"');
  });

  it("answers API Gateway's Forbidden frame when no route matches and there is no $default", async () => {
    harness = await GatewayHarness.start({
      routes: { $connect: {}, $disconnect: {}, send: { twoWay: true } },
      authorizer: () => succeed(ALICE),
    });
    const client = await harness.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'dance' }));

    expect(await client.nextJson()).toEqual({
      message: 'Forbidden',
      connectionId: harness.lastConnectionId(),
      requestId: expect.any(String),
    });
    expect(messageRoutes(harness)).toEqual([]);
  });

  it('answers Internal server error when the integration fails', async () => {
    const api = await start({ send: { twoWay: true, handler: () => fail('boom') } });
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'send' }));

    expect(await client.nextJson()).toEqual({
      message: 'Internal server error',
      connectionId: api.lastConnectionId(),
      requestId: expect.any(String),
    });
  });

  it("sends a two-way route's returned body to the client", async () => {
    const api = await start({
      send: { twoWay: true, handler: () => succeed({ statusCode: 200, body: '{"type":"ack"}' }) },
    });
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'send' }));

    expect(await client.next()).toEqual({ text: '{"type":"ack"}', binary: false });
  });

  it("does not send a one-way route's returned body to the client", async () => {
    let typingDone = false;
    const api = await start({
      typing: {
        handler: () => {
          typingDone = true;
          return succeed({ statusCode: 200, body: '{"type":"typing-reply"}' });
        },
      },
      send: { twoWay: true, handler: () => succeed({ statusCode: 200, body: '{"type":"ack"}' }) },
    });
    const client = await api.connect('token=abc');

    client.socket.send(JSON.stringify({ action: 'typing' }));
    await until(() => typingDone, 'the typing route');
    client.socket.send(JSON.stringify({ action: 'send' }));

    // The two-way reply is the first frame: the one-way reply was never sent.
    expect(await client.nextJson()).toEqual({ type: 'ack' });
  });
});
