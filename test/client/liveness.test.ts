import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jwtExpiringAt } from './support/fake-server.js';
import { harness, outcome, settle } from './support/harness.js';

const NOW_MS = Date.UTC(2030, 0, 1);
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('RealtimeClient liveness', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW_MS);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings every heartbeatIntervalMs and keeps the connection while pongs come back', async () => {
    const { server, client } = harness({ heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 500 });
    client.connect();
    await settle();
    await vi.advanceTimersByTimeAsync(999);
    expect(server.requests('ping')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests('ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(server.requests('ping')).toHaveLength(4);
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe('open');
  });

  it('treats a missing pong as a dead connection: closes the socket and reconnects', async () => {
    const { server, client, events } = harness({
      heartbeatIntervalMs: 1_000,
      heartbeatTimeoutMs: 500,
    });
    client.connect();
    await settle();
    await client.join('lobby');
    server.muted.add('ping');
    await vi.advanceTimersByTimeAsync(1_499);
    expect(server.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets[0]?.closeCalls).toHaveLength(1);
    expect(events.state.at(-1)).toEqual({
      state: 'reconnecting',
      reason: 'heartbeat timeout',
      attempt: 1,
    });
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(2);
    expect(client.state).toBe('open');
    expect(server.socket.requests.map((r) => r.action)).toEqual(['join']);
  });

  it('renews the token with auth renewBeforeExpiryMs before its exp, with a fresh token', async () => {
    const { server, client, tokens } = harness({ renewBeforeExpiryMs: 60_000 }, () =>
      jwtExpiringAt(nowSeconds() + 300),
    );
    client.connect();
    await settle();
    await vi.advanceTimersByTimeAsync(239_999);
    expect(server.requests('auth')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(tokens).toHaveBeenCalledTimes(2);
    const [auth] = server.requests('auth');
    expect(auth?.token).toBe(jwtExpiringAt(NOW_MS / 1000 + 240 + 300));
    expect(auth?.id).toEqual(expect.any(String));
    // The next renewal follows the exp of the `authed` reply (the fresh token's), minus 60 s.
    await vi.advanceTimersByTimeAsync(239_999);
    expect(server.requests('auth')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests('auth')).toHaveLength(2);
    expect(server.sockets).toHaveLength(1);
  });

  it('closes for good when a renewal is answered unauthorized', async () => {
    const { server, client, events } = harness({ renewBeforeExpiryMs: 60_000 }, () =>
      jwtExpiringAt(nowSeconds() + 120),
    );
    client.connect();
    await settle();
    server.failing.set('auth', 'unauthorized');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(events.error.map((e) => e.code)).toEqual(['unauthorized']);
    expect(events.state.at(-1)).toEqual({ state: 'closed', reason: 'renewal refused' });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(server.sockets).toHaveLength(1);
    expect(server.socket.closeCalls).toHaveLength(1);
  });

  it('renews at once when a request is refused as token_expired, then retries the request', async () => {
    const { server, client } = harness({}, () => jwtExpiringAt(nowSeconds() + 3_600));
    client.connect();
    await settle();
    server.failing.set('history', 'token_expired');
    const history = client.history('lobby');
    await settle();
    expect(server.requests('auth')).toHaveLength(1);
    server.failing.clear();
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(history).resolves.toMatchObject({ type: 'history', room: 'lobby' });
    expect(server.requests('history')).toHaveLength(2);
  });

  it('replaces the connection before maxConnectionMs ends it, without waiting for a backoff', async () => {
    const { server, client, events } = harness({
      maxConnectionMs: 10_000,
      random: () => 0.999,
    });
    client.connect();
    await settle();
    await client.join('lobby');
    await vi.advanceTimersByTimeAsync(9_999);
    expect(server.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets[0]?.closeCalls).toHaveLength(1);
    expect(server.sockets).toHaveLength(2);
    expect(events.state.at(-2)).toEqual({
      state: 'reconnecting',
      reason: 'max connection age',
      attempt: 1,
    });
    expect(client.state).toBe('open');
    expect(server.socket.requests.map((r) => r.action)).toEqual(['join']);
  });

  it('lets an unanswered send finish before replacing an old connection, queueing new requests', async () => {
    const { server, client } = harness({ maxConnectionMs: 10_000, requestTimeoutMs: 60_000 });
    client.connect();
    await settle();
    server.muted.add('send');
    const send = outcome(client.send('lobby', 'in flight'));
    await vi.advanceTimersByTimeAsync(15_000);
    const ping = outcome(client.ping());
    await settle();
    expect(server.sockets[0]?.closeCalls).toHaveLength(0);
    expect(server.requests('ping')).toEqual([]);
    const [request] = server.requests('send');
    server.socket.receive({ type: 'ack', id: request?.id ?? '', room: 'lobby', seq: 9 });
    await vi.advanceTimersByTimeAsync(2);
    expect(send.value).toEqual({ seq: 9 });
    expect(server.sockets[0]?.closeCalls).toHaveLength(1);
    expect(server.sockets).toHaveLength(2);
    expect(server.sockets[1]?.requests.map((r) => r.action)).toEqual(['ping']);
    expect(ping.value).toBeGreaterThanOrEqual(NOW_MS + 15_000);
  });
});
