import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTHORIZER_ID,
  allow,
  deny,
  type FakeFunction,
  fail,
  GatewayHarness,
  succeed,
} from '../support/gateway-harness.js';

let harness: GatewayHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ALICE = allow('user-1', { userId: 'user-1', name: 'Alice' });

async function start(
  options: { authorizer?: FakeFunction; connect?: FakeFunction } = {},
): Promise<GatewayHarness> {
  harness = await GatewayHarness.start({
    routes: {
      $connect: options.connect ? { handler: options.connect } : {},
      $disconnect: {},
      $default: { twoWay: true },
    },
    authorizer: options.authorizer ?? (() => succeed(ALICE)),
  });
  return harness;
}

describe('$connect', () => {
  it("passes the handshake's headers and query string to the $connect integration", async () => {
    const api = await start();

    await api.connect('token=abc&room=lobby', { headers: { 'X-Client': 'tests' } });

    const [event] = api.eventsOf('$connect');
    expect(event?.headers).toMatchObject({ 'X-Client': 'tests', Host: expect.any(String) });
    expect(event?.queryStringParameters).toEqual({ token: 'abc', room: 'lobby' });
  });

  it('marks the $connect event with routeKey $connect, eventType CONNECT and the connection id', async () => {
    const api = await start();

    await api.connect('token=abc');

    const [event] = api.eventsOf('$connect');
    expect(event?.requestContext).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectionId: expect.any(String),
    });
    expect([...api.gateway.connections.keys()]).toEqual([event?.requestContext.connectionId]);
  });

  it("passes the authorizer's context with its principalId to the $connect integration", async () => {
    const api = await start();

    await api.connect('token=abc');

    const [event] = api.eventsOf('$connect');
    expect(event?.requestContext.authorizer).toEqual({
      principalId: 'user-1',
      userId: 'user-1',
      name: 'Alice',
    });
  });

  it('calls the authorizer with a REQUEST event carrying the methodArn, headers and query string', async () => {
    const api = await start();

    await api.connect('token=abc', { headers: { 'X-Client': 'tests' } });

    const [event] = api.eventsOf(AUTHORIZER_ID);
    expect(event?.type).toBe('REQUEST');
    expect(event?.methodArn).toMatch(
      /^arn:aws:execute-api:[a-z0-9-]+:\d{12}:local\/prod\/\$connect$/,
    );
    expect(event?.headers).toMatchObject({ 'X-Client': 'tests' });
    expect(event?.queryStringParameters).toEqual({ token: 'abc' });
  });

  it('refuses a handshake without the identity source with 401 before the authorizer runs', async () => {
    const api = await start();

    const outcome = await api.handshake('room=lobby');

    expect(outcome).toMatchObject({ kind: 'refused', status: 401 });
    expect(api.eventsOf(AUTHORIZER_ID)).toEqual([]);
    expect(api.eventsOf('$connect')).toEqual([]);
  });

  it('refuses a handshake with an empty identity source with 401 before the authorizer runs', async () => {
    const api = await start();

    const outcome = await api.handshake('token=');

    expect(outcome).toMatchObject({ kind: 'refused', status: 401 });
    expect(api.eventsOf(AUTHORIZER_ID)).toEqual([]);
  });

  it('refuses with 403 when the authorizer denies, without calling $connect', async () => {
    const api = await start({ authorizer: () => succeed(deny('user-1')) });

    const outcome = await api.handshake('token=abc');

    expect(outcome).toMatchObject({ kind: 'refused', status: 403 });
    expect(api.eventsOf('$connect')).toEqual([]);
  });

  it('refuses with 401 when the authorizer throws Unauthorized', async () => {
    const api = await start({ authorizer: () => fail('Unauthorized') });

    const outcome = await api.handshake('token=abc');

    expect(outcome).toMatchObject({ kind: 'refused', status: 401 });
  });

  it('refuses with 500 when the authorizer throws anything else', async () => {
    const api = await start({ authorizer: () => fail('secret unavailable', 'TypeError') });

    const outcome = await api.handshake('token=abc');

    expect(outcome).toMatchObject({ kind: 'refused', status: 500 });
  });

  it("refuses with the $connect integration's status when it is not 2xx", async () => {
    const api = await start({
      connect: () => succeed({ statusCode: 429, body: 'too many connections' }),
    });

    const outcome = await api.handshake('token=abc');

    expect(outcome).toMatchObject({ kind: 'refused', status: 429 });
  });

  it('sends no $disconnect for a connection that $connect refused', async () => {
    const api = await start({ connect: () => succeed({ statusCode: 429 }) });

    await api.handshake('token=abc');
    await api.gateway.idle();

    expect(api.eventsOf('$connect')).toHaveLength(1);
    expect(api.eventsOf('$disconnect')).toEqual([]);
    expect(api.gateway.connections.size).toBe(0);
  });

  it('refuses with 500 when the $connect integration fails', async () => {
    const api = await start({ connect: () => fail('boom') });

    const outcome = await api.handshake('token=abc');

    expect(outcome).toMatchObject({ kind: 'refused', status: 500 });
  });
});
