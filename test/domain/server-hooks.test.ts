import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeConnection, openConnection } from '../../lambdas/domain/connection-lifecycle.js';
import { publish } from '../../lambdas/domain/publish.js';
import { direct } from '../../lambdas/domain/requests/direct.js';
import { join } from '../../lambdas/domain/requests/join.js';
import { send } from '../../lambdas/domain/requests/send.js';
import { HookFailedError } from '../../lambdas/hooks/hook-failed-error.js';
import { InstalledHooks } from '../../lambdas/hooks/installed-hooks.js';
import type { RealtimeHooks } from '../../lambdas/hooks/types.js';
import { callerOf, connect, fakeServices } from '../support/fakes.js';

const BUDGET_MS = 3_000;

let world: ReturnType<typeof fakeServices>;

beforeEach(() => {
  world = fakeServices({ maxDataBytes: 64 });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Gives the world's services these hooks, run as the functions run them. */
function useHooks(hooks: RealtimeHooks) {
  world.services = {
    ...world.services,
    hooks: new InstalledHooks({ timeoutMs: BUDGET_MS, hooks: () => hooks }),
  };
}

/** A hook answer that never comes. */
const never = () => new Promise<never>(() => {});

/**
 * What the stores and the notifier hold, to show a refused request changed
 * none of it; the rate limiter's state is not among it (admissions are counted apart).
 */
function state() {
  return {
    connections: [...world.connections.records.values()].map((record) => ({
      key: [record.userId, record.connectionId, record.name],
      rooms: [...record.rooms],
    })),
    members: [...world.rooms.members.entries()].map(([room, users]) => [
      room,
      [...users.entries()].map(([id, entry]) => [id, [...entry.conns]]),
    ]),
    changes: world.rooms.changes.length,
    seqs: [...world.rooms.seqs.entries()],
    stored: world.rooms.stored.length,
    posts: world.notifier.posts.length,
  };
}

/** alice (a1) and bob (b1) in `lobby`, with no hooks yet and nothing posted. */
async function lobby() {
  const alice = await connect(world, callerOf('alice', 'a1', { name: 'Alice', rooms: ['lobby'] }));
  const bob = await connect(world, callerOf('bob', 'b1'));
  for (const caller of [alice, bob]) {
    await join(world.services, caller, { action: 'join', room: 'lobby' });
  }
  world.notifier.posts.length = 0;
  return { alice, bob };
}

describe('authorizeJoin', () => {
  it('is asked with the user as hooks see them and the room', async () => {
    const authorizeJoin = vi.fn(() => true);
    useHooks({ authorizeJoin });
    const alice = await connect(world, callerOf('alice', 'a1', { name: 'Alice', rooms: ['l*'] }));

    await join(world.services, alice, { action: 'join', room: 'lobby' });

    expect(authorizeJoin).toHaveBeenCalledWith({
      user: { id: 'alice', name: 'Alice', rooms: ['l*'] },
      room: 'lobby',
    });
  });

  it('refusing makes the join forbidden and writes no membership, yet counts it against the rate limit', async () => {
    useHooks({ authorizeJoin: ({ room }) => room !== 'staff' });
    const alice = await connect(world, callerOf('alice', 'a1'));
    const before = state();
    const admissions = world.connections.admissions;

    const refused = join(world.services, alice, { action: 'join', id: 'j', room: 'staff' });

    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    expect(state()).toEqual(before);
    expect(world.connections.admissions).toBe(admissions + 1);
  });

  it('refusing still ranks after rate_limited', async () => {
    useHooks({ authorizeJoin: () => false });
    const alice = await connect(world, callerOf('alice', 'a1'));
    world.connections.throttled.add('a1');

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('is not asked about a room the token does not allow', async () => {
    const authorizeJoin = vi.fn(() => true);
    useHooks({ authorizeJoin });
    const alice = await connect(world, callerOf('alice', 'a1', { rooms: ['other'] }));

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect(authorizeJoin).not.toHaveBeenCalled();
  });

  it('allowing joins as without hooks', async () => {
    useHooks({ authorizeJoin: async () => true });
    const alice = await connect(world, callerOf('alice', 'a1'));

    const reply = await join(world.services, alice, { action: 'join', room: 'lobby' });

    expect(reply).toMatchObject({ type: 'joined', members: [{ userId: 'alice', name: 'alice' }] });
    expect(world.connections.records.get('a1')?.rooms).toEqual(new Set(['lobby']));
  });

  it('throwing fails the join with a HookFailedError before anything is written or counted', async () => {
    useHooks({
      authorizeJoin: () => {
        throw new Error('directory down');
      },
    });
    const alice = await connect(world, callerOf('alice', 'a1'));
    const before = state();
    const admissions = world.connections.admissions;

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toMatchObject({ name: 'HookFailedError', hook: 'authorizeJoin', code: 'threw' });
    expect(state()).toEqual(before);
    expect(world.connections.admissions).toBe(admissions);
  });

  it('overrunning its budget fails the join with a HookFailedError, writing nothing', async () => {
    vi.useFakeTimers();
    useHooks({ authorizeJoin: never });
    const alice = await connect(world, callerOf('alice', 'a1'));
    const before = state();

    const outcome = expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toMatchObject({ name: 'HookFailedError', hook: 'authorizeJoin', code: 'overran' });
    await vi.advanceTimersByTimeAsync(BUDGET_MS);

    await outcome;
    expect(state()).toEqual(before);
  });

  it('answering something but a boolean fails the join, writing nothing', async () => {
    useHooks({ authorizeJoin: (() => 'yes') as unknown as RealtimeHooks['authorizeJoin'] });
    const alice = await connect(world, callerOf('alice', 'a1'));
    const before = state();

    await expect(
      join(world.services, alice, { action: 'join', room: 'lobby' }),
    ).rejects.toBeInstanceOf(HookFailedError);
    expect(state()).toEqual(before);
  });
});

describe('beforeSend', () => {
  it('is asked with the user, the room and the data sent', async () => {
    const { alice } = await lobby();
    const beforeSend = vi.fn(() => undefined);
    useHooks({ beforeSend });

    await send(world.services, alice, { action: 'send', room: 'lobby', data: { text: 'hi' } });

    expect(beforeSend).toHaveBeenCalledWith({
      user: { id: 'alice', name: 'Alice', rooms: ['lobby'] },
      room: 'lobby',
      data: { text: 'hi' },
    });
    expect(world.rooms.stored.map((entry) => entry.message.data)).toEqual([{ text: 'hi' }]);
  });

  it('replacing the data stores and delivers the replacement', async () => {
    const { alice } = await lobby();
    useHooks({
      beforeSend: async ({ data }) => ({ data: { ...(data as object), checked: true } }),
    });

    const ack = await send(world.services, alice, {
      action: 'send',
      id: 's1',
      room: 'lobby',
      data: { text: 'hi' },
    });

    const replaced = { text: 'hi', checked: true };
    expect(ack).toEqual({ type: 'ack', id: 's1', room: 'lobby', seq: 1 });
    expect(world.rooms.stored.map((entry) => entry.message.data)).toEqual([replaced]);
    for (const id of ['a1', 'b1']) {
      expect(world.notifier.to(id)).toEqual([expect.objectContaining({ seq: 1, data: replaced })]);
    }
  });

  it('changing the data in place without returning it changes nothing', async () => {
    const { alice } = await lobby();
    useHooks({
      beforeSend: ({ data }) => {
        (data as { text: string }).text = 'x'.repeat(200);
      },
    });

    await send(world.services, alice, { action: 'send', room: 'lobby', data: { text: 'hi' } });

    expect(world.rooms.stored.map((entry) => entry.message.data)).toEqual([{ text: 'hi' }]);
  });

  it('rejecting makes the send forbidden with the reason as message, storing and delivering nothing', async () => {
    const { alice } = await lobby();
    const before = state();
    useHooks({ beforeSend: () => ({ reject: 'No links, please.' }) });

    const refused = send(world.services, alice, { action: 'send', room: 'lobby', data: 'x' });

    await expect(refused).rejects.toMatchObject({
      code: 'forbidden',
      message: 'No links, please.',
    });
    expect(state()).toEqual(before);
  });

  it('throwing fails the send with a HookFailedError, taking no seq and storing nothing', async () => {
    const { alice } = await lobby();
    const before = state();
    useHooks({ beforeSend: () => Promise.reject(new Error('filter down')) });

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'x' }),
    ).rejects.toMatchObject({ name: 'HookFailedError', hook: 'beforeSend', code: 'threw' });
    expect(state()).toEqual(before);
  });

  it('overrunning its budget fails the send with a HookFailedError, taking no seq and storing nothing', async () => {
    const { alice } = await lobby();
    const before = state();
    vi.useFakeTimers();
    useHooks({ beforeSend: never });

    const outcome = expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'x' }),
    ).rejects.toMatchObject({ name: 'HookFailedError', hook: 'beforeSend', code: 'overran' });
    await vi.advanceTimersByTimeAsync(BUDGET_MS);

    await outcome;
    expect(state()).toEqual(before);
  });

  it('refuses a replacement over MAX_DATA_BYTES with too_large, storing nothing', async () => {
    const { alice } = await lobby();
    const before = state();
    useHooks({ beforeSend: () => ({ data: 'x'.repeat(64) }) });

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'short' }),
    ).rejects.toMatchObject({ code: 'too_large' });
    expect(state()).toEqual(before);
  });

  it('measures a replacement as sent data is measured: the UTF-8 bytes of its JSON', async () => {
    const { alice } = await lobby();
    // 31 two-byte characters and the quotes are 64 bytes: within; one more is over.
    let text = 'é'.repeat(31);
    useHooks({ beforeSend: () => ({ data: text }) });

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 1 }),
    ).resolves.toBeUndefined();
    text += 'é';
    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 1 }),
    ).rejects.toMatchObject({ code: 'too_large' });
  });

  it('fails the send when the replacement is not a JSON value, storing nothing', async () => {
    const { alice } = await lobby();
    const before = state();
    useHooks({ beforeSend: () => ({ data: { at: new Date(0) } }) });

    await expect(
      send(world.services, alice, { action: 'send', room: 'lobby', data: 'x' }),
    ).rejects.toMatchObject({ name: 'HookFailedError', code: 'bad_answer' });
    expect(state()).toEqual(before);
  });

  it('is not asked about a send from a connection not in the room', async () => {
    await lobby();
    const carol = await connect(world, callerOf('carol', 'c1'));
    const beforeSend = vi.fn(() => undefined);
    useHooks({ beforeSend });

    await expect(
      send(world.services, carol, { action: 'send', room: 'lobby', data: 'x' }),
    ).rejects.toMatchObject({ code: 'not_member' });
    expect(beforeSend).not.toHaveBeenCalled();
  });

  it('is not asked about publish or direct', async () => {
    const { alice } = await lobby();
    const beforeSend = vi.fn(() => ({ reject: 'never' }));
    useHooks({ beforeSend });

    await publish(world.services, {
      room: 'lobby',
      data: 'notice',
      from: { userId: 'ops', name: 'Ops' },
    });
    await direct(world.services, alice, { action: 'direct', to: 'bob', data: 'psst' });

    expect(beforeSend).not.toHaveBeenCalled();
    expect(world.rooms.stored).toHaveLength(1);
    expect(world.notifier.to('b1').map((frame) => frame.type)).toEqual(['message', 'direct']);
  });
});

describe('onConnect and onDisconnect', () => {
  it('onConnect is told once the connection is stored', async () => {
    const stored: boolean[] = [];
    useHooks({
      onConnect: ({ connectionId }) => {
        stored.push(world.connections.records.has(connectionId));
      },
    });

    const outcome = await openConnection(world.services, callerOf('alice', 'a1'));

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(stored).toEqual([true]);
  });

  it('onConnect is not told of a connection refused over MAX_CONNECTIONS_PER_USER', async () => {
    world = fakeServices({ maxConnectionsPerUser: 1 });
    const onConnect = vi.fn();
    await openConnection(world.services, callerOf('alice', 'a1'));
    useHooks({ onConnect });

    await openConnection(world.services, callerOf('alice', 'a2'));

    expect(onConnect).not.toHaveBeenCalled();
  });

  it('an onConnect that throws is reported, and the connection stands', async () => {
    useHooks({
      onConnect: () => {
        throw new Error('audit log down');
      },
    });

    const outcome = await openConnection(world.services, callerOf('alice', 'a1'));

    expect(outcome).toEqual({
      kind: 'accepted',
      hookFailure: expect.objectContaining({ hook: 'onConnect', code: 'threw' }),
    });
    expect(world.connections.records.has('a1')).toBe(true);
  });

  it('an onConnect that overruns is reported, and the connection stands', async () => {
    vi.useFakeTimers();
    useHooks({ onConnect: never });

    const opening = openConnection(world.services, callerOf('alice', 'a1'));
    await vi.advanceTimersByTimeAsync(BUDGET_MS);

    expect(await opening).toEqual({
      kind: 'accepted',
      hookFailure: expect.objectContaining({ hook: 'onConnect', code: 'overran' }),
    });
    expect(world.connections.records.has('a1')).toBe(true);
  });

  it('onDisconnect is told once the connection and its memberships are removed', async () => {
    const { alice } = await lobby();
    const seen: unknown[] = [];
    useHooks({
      onDisconnect: ({ user, connectionId }) => {
        seen.push({
          user,
          stored: world.connections.records.has(connectionId),
          members: world.rooms.members.get('lobby')?.get('alice')?.conns.size,
        });
      },
    });

    await expect(closeConnection(world.services, alice)).resolves.toEqual({});

    expect(seen).toEqual([
      { user: { id: 'alice', name: 'Alice', rooms: ['lobby'] }, stored: false, members: 0 },
    ]);
  });

  it('an onDisconnect that throws is reported, and the connection is removed all the same', async () => {
    const { alice } = await lobby();
    useHooks({ onDisconnect: () => Promise.reject(new Error('audit log down')) });

    const report = await closeConnection(world.services, alice);

    expect(report).toEqual({
      hookFailure: expect.objectContaining({ hook: 'onDisconnect', code: 'threw' }),
    });
    expect(world.connections.records.has('a1')).toBe(false);
  });
});

describe('with no hooks installed', () => {
  it('joins, sends, connects and disconnects exactly as without the hooks port', async () => {
    async function run() {
      const outcome = await openConnection(world.services, callerOf('alice', 'a1'));
      const alice = callerOf('alice', 'a1');
      const joined = await join(world.services, alice, { action: 'join', id: 'j', room: 'lobby' });
      const ack = await send(world.services, alice, {
        action: 'send',
        id: 's',
        room: 'lobby',
        data: { text: 'hi' },
      });
      const closed = await closeConnection(world.services, alice);
      return {
        outcome,
        joined,
        ack,
        closed,
        state: state(),
        admissions: world.connections.admissions,
      };
    }
    const without = await run();
    world = fakeServices({ maxDataBytes: 64 });
    world.services = {
      ...world.services,
      hooks: new InstalledHooks({ timeoutMs: BUDGET_MS, hooks: () => undefined }),
    };

    expect(await run()).toEqual(without);
  });
});
