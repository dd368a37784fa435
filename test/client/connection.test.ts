import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { codeOf, harness, outcome, settle } from './support/harness.js';

describe('RealtimeClient connection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('calls the token provider once per connection attempt and connects with each fresh token', async () => {
    const { server, client, tokens } = harness();
    client.connect();
    await settle();
    server.socket.drop();
    await settle();
    server.socket.drop();
    await settle();
    expect(tokens).toHaveBeenCalledTimes(3);
    expect(server.sockets.map((s) => s.token)).toEqual(['token-1', 'token-2', 'token-3']);
    expect(server.sockets[0]?.url).toBe('ws://gateway.test/dev?token=token-1');
    expect(client.state).toBe('open');
  });

  it('reports connecting, open and reconnecting, with the reason and the attempt', async () => {
    const { server, client, events } = harness();
    expect(client.state).toBe('closed');
    client.connect();
    client.connect();
    await settle();
    server.socket.drop(1006);
    await settle();
    server.socket.drop(1001, 'Going away');
    await settle();
    expect(events.state).toEqual([
      { state: 'connecting' },
      { state: 'open' },
      { state: 'reconnecting', reason: 'connection closed (1006)', attempt: 1 },
      { state: 'open' },
      { state: 'reconnecting', reason: 'connection closed (1001: Going away)', attempt: 2 },
      { state: 'open' },
    ]);
    expect(server.sockets).toHaveLength(3);
  });

  it('waits a full-jitter backoff before each reconnect, growing by the factor up to the cap', async () => {
    const { server, client } = harness({
      random: () => 0.999,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2, resetAfterMs: 60_000 },
    });
    client.connect();
    await settle();
    for (const delay of [99, 199, 399, 799, 999, 999]) {
      const before = server.sockets.length;
      server.socket.drop();
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(server.sockets).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(server.sockets).toHaveLength(before + 1);
      await settle();
      expect(client.state).toBe('open');
    }
  });

  it('starts the backoff from the initial delay again once a connection stayed open for resetAfterMs', async () => {
    const { server, client, events } = harness({
      random: () => 0.999,
      reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, resetAfterMs: 5_000 },
    });
    client.connect();
    await settle();
    server.socket.drop();
    await vi.advanceTimersByTimeAsync(99);
    server.socket.drop();
    await vi.advanceTimersByTimeAsync(199);
    expect(server.sockets).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5_000);
    server.socket.drop();
    await vi.advanceTimersByTimeAsync(98);
    expect(server.sockets).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(4);
    expect(events.state.filter((s) => s.state === 'reconnecting').map((s) => s.attempt)).toEqual([
      1, 2, 1,
    ]);
  });

  it('backs off and tries again when the token provider throws, as it does offline', async () => {
    let calls = 0;
    const { server, client, events, tokens } = harness({}, () => {
      calls += 1;
      if (calls === 2) throw new Error('offline');
      return `token-${calls}`;
    });
    client.connect();
    await settle();
    server.socket.drop();
    const queued = outcome(client.send('lobby', 'hello'));
    await vi.advanceTimersByTimeAsync(60_000);

    expect(tokens).toHaveBeenCalledTimes(3);
    expect(server.sockets).toHaveLength(2);
    expect(client.state).toBe('open');
    expect(events.state.map((change) => change.reason)).toContain('token provider failed');
    expect(queued.error).toBeUndefined();
  });

  it("stops with 'handshake refused', rejecting what waited, when the token provider keeps throwing", async () => {
    const { server, client, tokens } = harness({ reconnect: { maxHandshakeFailures: 3 } }, () => {
      throw new Error('signed out');
    });
    client.connect();
    const queued = outcome(client.send('lobby', 'hello'));
    await vi.advanceTimersByTimeAsync(120_000);

    expect(client.state).toBe('closed');
    expect(tokens).toHaveBeenCalledTimes(3);
    expect(server.sockets).toEqual([]);
    expect(codeOf(queued.error)).toBe('closed');
    await expect(client.send('lobby', 'again')).rejects.toMatchObject({ code: 'closed' });
  });

  it("stops with 'no token' when the token provider gives an empty token, before any socket", async () => {
    const { server, client, events } = harness({}, async () => '');
    client.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.sockets).toEqual([]);
    expect(events.state.at(-1)).toEqual({ state: 'closed', reason: 'no token' });
  });

  it("stops with 'handshake refused' after maxHandshakeFailures attempts closed before opening", async () => {
    const { server, client, events, tokens } = harness({ reconnect: { maxHandshakeFailures: 3 } });
    server.refuseNext = 100;
    client.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.sockets).toHaveLength(3);
    expect(tokens).toHaveBeenCalledTimes(3);
    expect(events.state.map((s) => s.state)).toEqual([
      'connecting',
      'connecting',
      'connecting',
      'closed',
    ]);
    expect(events.state.at(-1)).toEqual({ state: 'closed', reason: 'handshake refused' });
  });

  it('counts only consecutive handshake failures towards the limit', async () => {
    const { server, client } = harness({ reconnect: { maxHandshakeFailures: 3 } });
    server.refuseNext = 2;
    client.connect();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(client.state).toBe('open');
    server.refuseNext = 2;
    server.socket.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(client.state).toBe('open');
    expect(server.sockets).toHaveLength(6);
  });

  it('abandons an attempt that does not open within connectTimeoutMs and counts it as refused', async () => {
    const { server, client, events } = harness({
      connectTimeoutMs: 1_000,
      reconnect: { maxHandshakeFailures: 2 },
    });
    server.autoOpen = false;
    client.connect();
    await vi.advanceTimersByTimeAsync(999);
    expect(server.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets[0]?.closeCalls).toHaveLength(1);
    // The retry's zero delay runs on the fake clock's next tick.
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sockets).toHaveLength(2);
    expect(events.state[1]).toMatchObject({ state: 'connecting', reason: 'connect timeout' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(events.state.at(-1)).toEqual({ state: 'closed', reason: 'handshake refused' });
  });

  it('connects again on connect() after a terminal refusal, and rejoins its rooms', async () => {
    const { server, client } = harness({ reconnect: { maxHandshakeFailures: 1 } });
    client.connect();
    await settle();
    await client.join('lobby');
    server.refuseNext = 1;
    server.socket.drop();
    await settle();
    expect(client.state).toBe('closed');
    expect(server.sockets).toHaveLength(2);
    client.connect();
    await settle();
    expect(client.state).toBe('open');
    expect(server.socket.requests.map((r) => [r.action, r.room])).toEqual([['join', 'lobby']]);
  });

  it('closes for good on close(): state closed by client, requests rejected, no reconnect', async () => {
    const { server, client, events } = harness();
    client.connect();
    await settle();
    server.muted.add('history');
    const history = outcome(client.history('lobby'));
    await settle();
    client.close();
    client.connect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(codeOf(history.error)).toBe('closed');
    expect(events.state.at(-1)).toEqual({ state: 'closed', reason: 'closed by client' });
    expect(server.sockets).toHaveLength(1);
    expect(server.socket.closeCalls).toHaveLength(1);
    await expect(client.ping()).rejects.toMatchObject({ code: 'closed' });
  });
});
