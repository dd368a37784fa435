import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientEvents } from '../../client/index.js';
import type { PresenceFrame, User } from '../../protocol/messages.js';
import { alice, bob, type FakeSocket, jwtExpiringAt } from './support/fake-server.js';
import { harness, outcome, settle } from './support/harness.js';

const carol: User = { userId: 'carol', name: 'Carol' };
const dave: User = { userId: 'dave', name: 'Dave' };

function presence(room: string, joined: User[], left: User[] = []): PresenceFrame {
  return { type: 'presence', room, joined, left };
}

const ids = (users: readonly User[]) => users.map((user) => user.userId);

/** Each presence event as members, joined, left, and whether a frame (not a reply) caused it. */
function reported(events: readonly ClientEvents['presence'][]) {
  return events.map((change) => [
    change.room,
    ids(change.members),
    ids(change.joined),
    ids(change.left),
    change.event === undefined ? 'reply' : 'frame',
  ]);
}

/** Answers the socket's latest join of `room`, which the server left unanswered. */
function answerJoin(socket: FakeSocket, room: string, members: User[]): void {
  const request = socket.requests.filter((r) => r.action === 'join' && r.room === room).at(-1);
  if (request?.id === undefined) throw new Error(`no join of ${room} was sent`);
  socket.receive({ type: 'joined', id: request.id, room, members, seq: 0 });
}

/** A connected client that has joined `lobby`, listed with `members`. */
async function inLobby(members: User[], options: Parameters<typeof harness>[0] = {}) {
  const setup = harness(options);
  setup.server.members = members;
  setup.client.connect();
  await settle();
  await setup.client.join('lobby');
  return setup;
}

describe('RealtimeClient presence', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('adds and removes several users with each coalesced frame', async () => {
    const { server, client, events } = await inLobby([alice]);
    server.socket.receive(presence('lobby', [bob, carol]));
    expect(client.members('lobby')).toEqual([alice, bob, carol]);
    server.socket.receive(presence('lobby', [dave], [bob, carol]));
    expect(client.members('lobby')).toEqual([alice, dave]);
    expect(reported(events.presence)).toEqual([
      ['lobby', ['alice'], ['alice'], [], 'reply'],
      ['lobby', ['alice', 'bob', 'carol'], ['bob', 'carol'], [], 'frame'],
      ['lobby', ['alice', 'dave'], ['dave'], ['bob', 'carol'], 'frame'],
    ]);
    expect(events.presence.at(-1)?.event).toEqual(presence('lobby', [dave], [bob, carol]));
  });

  it('ignores a frame that repeats a change the member list already shows', async () => {
    const { server, client, events } = await inLobby([alice, bob]);
    server.socket.receive(presence('lobby', [bob]));
    server.socket.receive(presence('lobby', [], [carol]));
    expect(client.members('lobby')).toEqual([alice, bob]);
    server.socket.receive(presence('lobby', [carol], [bob]));
    server.socket.receive(presence('lobby', [carol], [bob]));
    expect(client.members('lobby')).toEqual([alice, carol]);
    expect(reported(events.presence)).toEqual([
      ['lobby', ['alice', 'bob'], ['alice', 'bob'], [], 'reply'],
      ['lobby', ['alice', 'carol'], ['carol'], ['bob'], 'frame'],
    ]);
  });

  it('applies a frame received before the joined reply right after the reply sets the members', async () => {
    const { server, client, events } = harness();
    client.connect();
    await settle();
    server.muted.add('join');
    const joining = outcome(client.join('lobby'));
    await settle();
    // The server read the members (alice, bob) after adding alice; bob left and
    // carol came before the reply arrived, and their frame overtook it.
    server.socket.receive(presence('lobby', [carol], [bob]));
    expect(client.members('lobby')).toEqual([]);
    expect(events.presence).toEqual([]);

    answerJoin(server.socket, 'lobby', [alice, bob]);
    await settle();
    expect(client.members('lobby')).toEqual([alice, carol]);
    expect(joining.value?.members).toEqual([alice, bob]);
    expect(reported(events.presence)).toEqual([
      ['lobby', ['alice', 'bob'], ['alice', 'bob'], [], 'reply'],
      ['lobby', ['alice', 'carol'], ['carol'], ['bob'], 'frame'],
    ]);
  });

  it('resets the members from the rejoin reply after a reconnect, then applies the frames that overtook it', async () => {
    const { server, client, events } = await inLobby([alice, bob]);
    server.socket.drop();
    server.muted.add('join');
    await settle();
    expect(server.socket.requests.map((r) => r.action)).toEqual(['join']);
    server.socket.receive(presence('lobby', [dave], [carol]));
    expect(client.members('lobby')).toEqual([alice, bob]);

    answerJoin(server.socket, 'lobby', [alice, carol]);
    await settle();
    expect(client.members('lobby')).toEqual([alice, dave]);
    expect(reported(events.presence).slice(1)).toEqual([
      ['lobby', ['alice', 'carol'], ['carol'], ['bob'], 'reply'],
      ['lobby', ['alice', 'dave'], ['dave'], ['carol'], 'frame'],
    ]);
  });

  it('drops a frame the old connection held for a repeated join once the connection drops', async () => {
    const { server, client } = await inLobby([alice, bob]);
    server.muted.add('join');
    const again = outcome(client.join('lobby'));
    await settle();
    // Bob left and came back while the connection was down: no frame tells of his return.
    server.socket.receive(presence('lobby', [], [bob]));
    server.socket.drop();
    server.muted.clear();
    await settle();
    expect(again.value?.members).toEqual([alice, bob]);
    expect(client.members('lobby')).toEqual([alice, bob]);
  });

  it('changes nothing visible for a frame whose lists name only its own user', async () => {
    const token = () => jwtExpiringAt(Math.floor(Date.now() / 1000) + 3600, 'alice');
    const { server, client, events } = await inLobby([alice, bob], { token });
    server.socket.receive(presence('lobby', [], [alice]));
    server.socket.receive(presence('lobby', [alice]));
    expect(client.members('lobby')).toEqual([alice, bob]);
    expect(events.presence).toHaveLength(1);
  });

  it('ignores frames for a room it has not joined', async () => {
    const { server, client, events } = await inLobby([alice]);
    server.socket.receive(presence('elsewhere', [bob]));
    expect(client.members('elsewhere')).toEqual([]);
    expect(reported(events.presence)).toEqual([['lobby', ['alice'], ['alice'], [], 'reply']]);
  });

  it('drops the frames held for a join that is refused', async () => {
    const { server, client, events } = harness();
    client.connect();
    await settle();
    server.muted.add('join');
    const refused = outcome(client.join('lobby'));
    await settle();
    server.socket.receive(presence('lobby', [carol]));
    const [request] = server.socket.requests.filter((r) => r.action === 'join');
    server.socket.receive({
      type: 'error',
      id: request?.id ?? '',
      code: 'forbidden',
      message: 'no',
    });
    await settle();
    expect(refused.error).toMatchObject({ code: 'forbidden' });

    server.muted.clear();
    await client.join('lobby');
    expect(client.members('lobby')).toEqual([alice]);
    expect(reported(events.presence)).toEqual([['lobby', ['alice'], ['alice'], [], 'reply']]);
  });

  it('drops the frames held for a room left before its joined reply', async () => {
    const { server, client, events } = harness();
    client.connect();
    await settle();
    server.muted.add('join');
    const abandoned = outcome(client.join('lobby'));
    await settle();
    server.socket.receive(presence('lobby', [carol]));
    await client.leave('lobby');
    answerJoin(server.socket, 'lobby', [alice]);
    await settle();
    expect(abandoned.value?.members).toEqual([alice]);
    expect(client.members('lobby')).toEqual([]);
    expect(events.presence).toEqual([]);

    server.muted.clear();
    await client.join('lobby');
    expect(client.members('lobby')).toEqual([alice]);
  });

  it('reports nothing for a room left while a repeated join of it waits for its reply', async () => {
    const { server, client, events } = await inLobby([alice]);
    server.muted.add('join');
    const again = outcome(client.join('lobby'));
    await settle();
    server.socket.receive(presence('lobby', [carol]));
    await client.leave('lobby');
    answerJoin(server.socket, 'lobby', [alice, bob]);
    await settle();
    expect(again.value?.members).toEqual([alice, bob]);
    expect(client.members('lobby')).toEqual([]);
    expect(events.presence).toHaveLength(1);
  });
});
