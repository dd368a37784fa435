import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JoinedFrame } from '../../protocol/messages.js';
import { alice, bob } from './support/fake-server.js';
import { harness, outcome, settle } from './support/harness.js';

const carol = { userId: 'carol', name: 'Carol' };

/** A connected client that has joined `rooms`. */
async function joinedClient(rooms: string[], options: Parameters<typeof harness>[0] = {}) {
  const setup = harness(options);
  setup.client.connect();
  await settle();
  for (const room of rooms) await setup.client.join(room);
  return setup;
}

describe('RealtimeClient delivery', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a join made before the first connection once', async () => {
    const { server, client } = harness();
    const joining = client.join('lobby');
    client.connect();
    await settle();

    await expect(joining).resolves.toMatchObject({ type: 'joined', room: 'lobby' });
    expect(server.requests('join')).toHaveLength(1);
  });

  it('hands frames 1, 3, 2, 2, 4 to the application as 1, 2, 3, 4, each once', async () => {
    const { server, delivered, events } = await joinedClient(['lobby']);
    const frames = [1, 2, 3, 4].map(() => server.publish('lobby'));
    for (const seq of [1, 3, 2, 2, 4]) server.socket.receive(frames[seq - 1] ?? {});
    await vi.advanceTimersByTimeAsync(30_000);
    expect(delivered()).toEqual(['lobby:1', 'lobby:2', 'lobby:3', 'lobby:4']);
    expect(server.requests('history')).toEqual([]);
    expect(events.gap).toEqual([]);
  });

  it('starts from the joined seq on the first join: earlier messages are left to history', async () => {
    const { server, client, delivered } = harness();
    const earlier = [1, 2, 3].map(() => server.publish('lobby'));
    client.connect();
    await settle();
    const joined = await client.join('lobby');
    expect(joined.seq).toBe(3);
    server.socket.receive(earlier[2] ?? {});
    server.socket.receive(server.publish('lobby'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(delivered()).toEqual(['lobby:4']);
    expect(server.requests('history')).toEqual([]);
  });

  it('fills a gap from history and delivers in order', async () => {
    const { server, delivered, events } = await joinedClient(['lobby'], { gapFillDelayMs: 200 });
    const frames = [1, 2, 3].map(() => server.publish('lobby'));
    server.socket.receive(frames[0] ?? {});
    server.socket.receive(frames[2] ?? {});
    await vi.advanceTimersByTimeAsync(199);
    expect(delivered()).toEqual(['lobby:1']);
    expect(server.requests('history')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests('history')).toMatchObject([{ room: 'lobby', after: 1, limit: 1 }]);
    expect(delivered()).toEqual(['lobby:1', 'lobby:2', 'lobby:3']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(events.gap).toEqual([]);
  });

  it('gives up on a gap history cannot fill only after gapTimeoutMs, then delivers what follows', async () => {
    const { server, delivered, events } = await joinedClient(['lobby'], { gapTimeoutMs: 5_000 });
    const first = server.publish('lobby');
    server.skip('lobby');
    const third = server.publish('lobby');
    server.socket.receive(first);
    server.socket.receive(third);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(server.requests('history')).toHaveLength(1);
    expect(delivered()).toEqual(['lobby:1']);
    expect(events.gap).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(events.gap).toEqual([{ room: 'lobby', from: 2, to: 2 }]);
    expect(delivered()).toEqual(['lobby:1', 'lobby:3']);
  });

  it('rejoins every joined room after a reconnect and delivers what was missed, once and in order', async () => {
    const { server, delivered, events } = await joinedClient(['a', 'b']);
    server.socket.receive(server.publish('a'));
    server.socket.drop();
    for (let i = 0; i < 3; i += 1) server.publish('a');
    for (let i = 0; i < 2; i += 1) server.publish('b');
    await settle();
    const requests = server.socket.requests.map((r) => [r.action, r.room, r.after]);
    expect(requests).toEqual([
      ['join', 'a', undefined],
      ['join', 'b', undefined],
      ['history', 'a', 1],
      ['history', 'b', 0],
    ]);
    // A duplicate of a message already caught up from history, arriving late and live.
    server.socket.receive(server.stored.get('a')?.[2] ?? {});
    await vi.advanceTimersByTimeAsync(30_000);
    expect(delivered()).toEqual(['a:1', 'a:2', 'a:3', 'a:4', 'b:1', 'b:2']);
    expect(events.gap).toEqual([]);
  });

  it('pages history while hasMore when catching up after a reconnect', async () => {
    const { server, delivered } = await joinedClient(['lobby']);
    server.socket.drop();
    for (let i = 0; i < 250; i += 1) server.publish('lobby');
    await settle();
    expect(server.requests('history').map((r) => [r.after, r.limit])).toEqual([
      [0, 100],
      [100, 100],
      [200, 100],
    ]);
    expect(delivered()).toEqual(Array.from({ length: 250 }, (_, i) => `lobby:${i + 1}`));
  });

  it('holds live messages that overtake the catch-up until history has filled what came before', async () => {
    const { server, delivered, events } = await joinedClient(['lobby'], { gapTimeoutMs: 1_000 });
    server.socket.drop();
    server.publish('lobby');
    server.publish('lobby');
    server.muted.add('history');
    await settle();
    const live = server.publish('lobby');
    server.socket.receive(live);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(delivered()).toEqual([]);
    expect(events.gap).toEqual([]);
    const [request] = server.socket.requests.filter((r) => r.action === 'history');
    server.socket.receive({
      type: 'history',
      id: request?.id ?? '',
      room: 'lobby',
      messages: server.stored.get('lobby')?.slice(0, 2) ?? [],
      hasMore: true,
    });
    await settle();
    expect(delivered()).toEqual(['lobby:1', 'lobby:2', 'lobby:3']);
  });

  it('sends requests queued while offline only once the rooms are rejoined', async () => {
    const { server, client } = await joinedClient(['lobby']);
    server.socket.drop();
    server.muted.add('join');
    const send = outcome(client.send('lobby', 'after the rejoin'));
    await settle();
    const socket = server.socket;
    expect(socket.requests.map((r) => r.action)).toEqual(['join']);
    const joined: JoinedFrame = {
      type: 'joined',
      id: socket.requests[0]?.id ?? '',
      room: 'lobby',
      members: [alice],
      seq: 0,
    };
    socket.receive(joined);
    await settle();
    expect(socket.requests.map((r) => r.action)).toEqual(['join', 'send']);
    expect(send.value).toEqual({ seq: 1 });
  });

  it('forgets a room on leave: no rejoin and no more messages for it', async () => {
    const { server, client, delivered } = await joinedClient(['a', 'b']);
    await client.leave('a');
    server.socket.receive(server.publish('a'));
    server.socket.drop();
    await settle();
    expect(server.socket.requests.map((r) => [r.action, r.room])).toEqual([['join', 'b']]);
    expect(delivered()).toEqual([]);
    expect(client.members('a')).toEqual([]);
  });

  it("keeps each room's member list from the joined reply, presence frames and the rejoin", async () => {
    const { server, client, events } = await joinedClient(['lobby']);
    expect(client.members('lobby')).toEqual([alice]);
    server.socket.receive({ type: 'presence', room: 'lobby', joined: [bob, carol], left: [] });
    server.socket.receive({ type: 'presence', room: 'lobby', joined: [], left: [carol] });
    expect(client.members('lobby')).toEqual([alice, bob]);
    server.members = [alice, carol];
    server.socket.drop();
    await settle();
    expect(client.members('lobby')).toEqual([alice, carol]);
    const ids = (users: readonly { userId: string }[]) => users.map((user) => user.userId);
    expect(
      events.presence.map((p) => [ids(p.members), ids(p.joined), ids(p.left), !!p.event]),
    ).toEqual([
      [['alice'], ['alice'], [], false],
      [['alice', 'bob', 'carol'], ['bob', 'carol'], [], true],
      [['alice', 'bob'], [], ['carol'], true],
      [['alice', 'carol'], ['carol'], ['bob'], false],
    ]);
  });

  it('drops a room whose rejoin is refused and reports it as an error event with the room', async () => {
    const { server, client, events } = await joinedClient(['lobby', 'secret']);
    server.socket.drop();
    server.failing.set('join', 'forbidden');
    await settle();
    expect(events.error.map((e) => [e.code, e.room])).toEqual([
      ['forbidden', 'lobby'],
      ['forbidden', 'secret'],
    ]);
    server.failing.clear();
    server.socket.drop();
    await settle();
    expect(server.socket.requests.map((r) => r.action)).toEqual([]);
    expect(client.members('lobby')).toEqual([]);
  });
});
