import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealtimeError } from '../../client/index.js';
import { codeOf, harness, outcome, settle } from './support/harness.js';

describe('RealtimeClient requests', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('queues requests made before the connection opens and sends them in order once open', async () => {
    const { server, client } = harness();
    const first = outcome(client.send('lobby', 'one'));
    const second = outcome(client.send('lobby', 'two'));
    await settle();
    expect(server.sockets).toEqual([]);
    client.connect();
    await settle();
    expect(server.socket.requests.map((r) => r.data)).toEqual(['one', 'two']);
    expect(first.value).toEqual({ seq: 1 });
    expect(second.value).toEqual({ seq: 2 });
  });

  it("writes a room's sends one at a time, each once the one before is answered, so they are stored in the order made", async () => {
    const { server, client } = harness();
    client.connect();
    await settle();
    server.muted.add('send');
    const first = outcome(client.send('lobby', 'one'));
    const second = outcome(client.send('lobby', 'two'));
    const elsewhere = outcome(client.send('other', 'three'));
    await settle();
    // Another room's send goes at once; this room's second waits for the first's answer.
    expect(server.requests('send').map((r) => r.data)).toEqual(['one', 'three']);

    server.muted.delete('send');
    const [one] = server.requests('send');
    server.socket.receive({ type: 'ack', id: one?.id ?? '', room: 'lobby', seq: 1 });
    await settle();
    expect(server.requests('send').map((r) => r.data)).toEqual(['one', 'three', 'two']);
    expect(first.value).toEqual({ seq: 1 });
    expect(second.settled).toBe(true);
    expect(elsewhere.settled).toBe(false);
  });

  it('rejects sends beyond maxQueuedRequests with queue_full instead of dropping them silently', async () => {
    const { server, client } = harness({ maxQueuedRequests: 3 });
    const sends = [1, 2, 3, 4, 5].map((n) => outcome(client.send('lobby', n)));
    await settle();
    expect(sends.map((s) => codeOf(s.error))).toEqual([
      undefined,
      undefined,
      undefined,
      'queue_full',
      'queue_full',
    ]);
    client.connect();
    await settle();
    expect(server.requests('send').map((r) => r.data)).toEqual([1, 2, 3]);
    expect(sends.slice(0, 3).map((s) => s.value)).toEqual([{ seq: 1 }, { seq: 2 }, { seq: 3 }]);
  });

  it('rejects a request with timeout when no reply comes within requestTimeoutMs', async () => {
    const { server, client } = harness({ requestTimeoutMs: 2_000 });
    client.connect();
    await settle();
    server.muted.add('ping');
    const ping = outcome(client.ping());
    await vi.advanceTimersByTimeAsync(1_999);
    expect(ping.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(codeOf(ping.error)).toBe('timeout');
    expect(client.state).toBe('open');
  });

  it("rejects with the protocol error's code and message", async () => {
    const { server, client } = harness();
    client.connect();
    await settle();
    server.failing.set('send', 'not_member');
    const error = await client.send('lobby', 'hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RealtimeError);
    expect(error).toMatchObject({
      name: 'RealtimeError',
      code: 'not_member',
      message: 'send failed with not_member',
    });
  });

  it('on a disconnect, rejects an unanswered send with timeout and sends an unanswered history again', async () => {
    const { server, client } = harness();
    client.connect();
    await settle();
    server.muted.add('send');
    server.muted.add('history');
    const send = outcome(client.send('lobby', 'maybe stored'));
    const history = outcome(client.history('lobby', { after: 3, limit: 10 }));
    await settle();
    server.muted.clear();
    server.socket.drop();
    await settle();
    expect(codeOf(send.error)).toBe('timeout');
    expect(server.sockets).toHaveLength(2);
    expect(server.sockets[1]?.requests.map((r) => [r.action, r.after, r.limit])).toEqual([
      ['history', 3, 10],
    ]);
    expect(history.value).toMatchObject({ type: 'history', room: 'lobby', messages: [] });
  });

  it('resolves direct with the delivered count and ping with the server time', async () => {
    const { server, client } = harness();
    client.connect();
    await settle();
    await expect(client.direct('bob', { text: 'psst' })).resolves.toEqual({ delivered: 1 });
    expect(server.requests('direct')[0]).toMatchObject({ to: 'bob', data: { text: 'psst' } });
    vi.setSystemTime(1_700_000_000_000);
    await expect(client.ping()).resolves.toBe(1_700_000_000_000);
  });

  it('sends typing without an id, drops it while offline, and reports its error as an error event', async () => {
    const { server, client, events } = harness();
    client.typing('lobby');
    client.connect();
    await settle();
    server.failing.set('typing', 'not_member');
    client.typing('lobby');
    await settle();
    expect(server.requests('typing')).toEqual([{ action: 'typing', room: 'lobby' }]);
    expect(events.error.map((e) => [e.code, e.message])).toEqual([
      ['not_member', 'typing failed with not_member'],
    ]);
  });

  it('refuses a join of an invalid room name with bad_request without sending anything', async () => {
    const { server, client } = harness();
    client.connect();
    await settle();
    await expect(client.join('no spaces allowed')).rejects.toMatchObject({ code: 'bad_request' });
    expect(server.requests('join')).toEqual([]);
    expect(client.members('no spaces allowed')).toEqual([]);
  });

  it("reports API Gateway's own error frames as internal error events", async () => {
    const { server, client, events } = harness();
    client.connect();
    await settle();
    server.socket.receive({ message: 'Internal server error', connectionId: 'c', requestId: 'r' });
    expect(events.error.map((e) => e.code)).toEqual(['internal']);
  });
});
