import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Identity } from '../../lambdas/domain/identity.js';
import { HookFailedError } from '../../lambdas/hooks/hook-failed-error.js';
import { InstalledHooks } from '../../lambdas/hooks/installed-hooks.js';
import { installHooks } from '../../lambdas/hooks/registry.js';
import type { AuthorizeJoinInput, RealtimeHooks } from '../../lambdas/hooks/types.js';

const ALICE: Identity = { userId: 'alice', name: 'Alice', rooms: ['lobby'], exp: 2_000_000_000 };
const USER = { id: 'alice', name: 'Alice', rooms: ['lobby'] };
const BUDGET_MS = 100;

/** Runs `hooks` as the functions do, with a clock the test may move by hand. */
function running(hooks: RealtimeHooks | undefined, clock: () => number = Date.now) {
  return new InstalledHooks({ timeoutMs: BUDGET_MS, clock, hooks: () => hooks });
}

afterEach(() => {
  vi.useRealTimers();
  installHooks({});
});

describe('with no hooks', () => {
  it('allows every join, keeps the data and tells nobody', async () => {
    const none = running(undefined);
    const data = { text: 'hi' };

    await expect(none.authorizeJoin(ALICE, 'lobby')).resolves.toBe(true);
    await expect(none.beforeSend(ALICE, 'lobby', data)).resolves.toEqual({
      kind: 'accepted',
      data,
      replaced: false,
    });
    await expect(none.onConnect(ALICE, 'a1')).resolves.toBeUndefined();
    await expect(none.onDisconnect(ALICE, 'a1')).resolves.toBeUndefined();
  });

  it('hands back the very data sent, not a copy', async () => {
    const data = { text: 'hi' };

    const verdict = await running({}).beforeSend(ALICE, 'lobby', data);

    expect(verdict.kind === 'accepted' && verdict.data).toBe(data);
  });
});

describe('reading the installed hooks', () => {
  it('uses the hooks installed after it was built', async () => {
    const hooks = new InstalledHooks({ timeoutMs: BUDGET_MS });
    await expect(hooks.authorizeJoin(ALICE, 'lobby')).resolves.toBe(true);

    installHooks({ authorizeJoin: () => false });

    await expect(hooks.authorizeJoin(ALICE, 'lobby')).resolves.toBe(false);
  });

  it('calls a hook as a method of the hooks object', async () => {
    class Directory {
      private readonly staff = new Set(['alice']);
      authorizeJoin({ user }: AuthorizeJoinInput) {
        return this.staff.has(user.id);
      }
    }

    await expect(running(new Directory()).authorizeJoin(ALICE, 'staff')).resolves.toBe(true);
  });
});

describe('authorizeJoin', () => {
  it('passes the user as hooks see it and the room, and resolves the answer', async () => {
    const authorizeJoin = vi.fn(async () => false);

    await expect(running({ authorizeJoin }).authorizeJoin(ALICE, 'lobby')).resolves.toBe(false);
    expect(authorizeJoin).toHaveBeenCalledWith({ user: USER, room: 'lobby' });
  });

  it.each([
    ['undefined', undefined],
    ['a string', 'true'],
    ['a number', 1],
  ])('fails on an answer of %s, which is neither yes nor no', async (_, answer) => {
    const hooks = running({ authorizeJoin: () => answer as unknown as boolean });

    await expect(hooks.authorizeJoin(ALICE, 'lobby')).rejects.toMatchObject({
      name: 'HookFailedError',
      hook: 'authorizeJoin',
      code: 'bad_answer',
    });
  });
});

describe('beforeSend', () => {
  it('passes a copy of the data: changing it in place keeps the data sent', async () => {
    const data = { text: 'hi', tags: ['a'] };
    const hooks = running({
      beforeSend: (input) => {
        (input.data as { tags: string[] }).tags.push('b');
      },
    });

    const verdict = await hooks.beforeSend(ALICE, 'lobby', data);

    expect(verdict).toEqual({
      kind: 'accepted',
      data: { text: 'hi', tags: ['a'] },
      replaced: false,
    });
    expect(data.tags).toEqual(['a']);
  });

  it('passes the user, the room and the data', async () => {
    const beforeSend = vi.fn(() => undefined);

    await running({ beforeSend }).beforeSend(ALICE, 'lobby', [1, 'two']);

    expect(beforeSend).toHaveBeenCalledWith({ user: USER, room: 'lobby', data: [1, 'two'] });
  });

  it('replaces the data with what { data } holds, null included', async () => {
    const hooks = running({ beforeSend: async () => ({ data: null }) });

    await expect(hooks.beforeSend(ALICE, 'lobby', 'hi')).resolves.toEqual({
      kind: 'accepted',
      data: null,
      replaced: true,
    });
  });

  it('refuses with the reason of { reject }', async () => {
    const hooks = running({ beforeSend: () => ({ reject: 'Too shouty.' }) });

    await expect(hooks.beforeSend(ALICE, 'lobby', 'HI')).resolves.toEqual({
      kind: 'rejected',
      reason: 'Too shouty.',
    });
  });

  it.each([
    ['null', null, 'returned null, not undefined, { data } or { reject }'],
    ['the data itself', 'hi', 'returned a string, not undefined, { data } or { reject }'],
    ['an object of neither', { text: 'hi' }, 'returned an object with neither data and reject'],
    [
      'an object of both',
      { data: 1, reject: 'no' },
      'returned an object with both data and reject',
    ],
    ['a reason not a string', { reject: 42 }, 'returned { reject } with a number, not a string'],
    [
      'data not a JSON value',
      { data: { when: new Date(0) } },
      'returned data that is not a JSON value: it holds a Date',
    ],
  ])(
    'fails on an answer of %s, saying what it was but not its content',
    async (_, answer, text) => {
      const hooks = running({ beforeSend: () => answer as { data: unknown } });

      const failure = hooks.beforeSend(ALICE, 'lobby', 'hi');

      await expect(failure).rejects.toThrow(new HookFailedError('beforeSend', 'bad_answer', text));
      await expect(failure).rejects.toMatchObject({ code: 'bad_answer' });
    },
  );

  it('fails on data that cannot be read', async () => {
    const unreadable = {
      get text(): string {
        throw new Error('revoked');
      },
    };
    const hooks = running({ beforeSend: () => ({ data: unreadable }) });

    await expect(hooks.beforeSend(ALICE, 'lobby', 'hi')).rejects.toMatchObject({
      hook: 'beforeSend',
      code: 'bad_answer',
    });
  });
});

describe('onConnect and onDisconnect', () => {
  it('tell the hooks the user and the connection', async () => {
    const onConnect = vi.fn();
    const onDisconnect = vi.fn(async () => {});
    const hooks = running({ onConnect, onDisconnect });

    await hooks.onConnect(ALICE, 'a1');
    await hooks.onDisconnect(ALICE, 'a1');

    expect(onConnect).toHaveBeenCalledWith({ user: USER, connectionId: 'a1' });
    expect(onDisconnect).toHaveBeenCalledWith({ user: USER, connectionId: 'a1' });
  });
});

describe('a hook that fails', () => {
  it('is a HookFailedError naming the hook, keeping what it threw as the cause', async () => {
    const thrown = new Error('directory down');
    const hooks = running({
      authorizeJoin: () => {
        throw thrown;
      },
    });

    const failure = await hooks.authorizeJoin(ALICE, 'lobby').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(HookFailedError);
    expect(failure).toMatchObject({
      message: 'The authorizeJoin hook threw',
      hook: 'authorizeJoin',
      code: 'threw',
      cause: thrown,
    });
  });

  it('names what was thrown when it is not an Error', async () => {
    const hooks = running({ onConnect: () => Promise.reject('nope') });

    await expect(hooks.onConnect(ALICE, 'a1')).rejects.toMatchObject({
      message: 'The onConnect hook threw a string, not an Error',
      cause: 'nope',
    });
  });

  it('overruns when it has not answered within the budget, and its late answer is ignored', async () => {
    vi.useFakeTimers();
    let answer: (allowed: boolean) => void = () => {};
    const hooks = running({
      authorizeJoin: () =>
        new Promise<boolean>((resolve) => {
          answer = resolve;
        }),
    });

    const outcome = expect(hooks.authorizeJoin(ALICE, 'lobby')).rejects.toMatchObject({
      message: `The authorizeJoin hook did not answer within ${BUDGET_MS} ms`,
      code: 'overran',
    });
    await vi.advanceTimersByTimeAsync(BUDGET_MS);
    answer(true);

    await outcome;
  });

  it('leaves no unhandled rejection when it fails after overrunning', async () => {
    vi.useFakeTimers();
    const hooks = running({
      onDisconnect: () =>
        new Promise<void>((_, reject) =>
          setTimeout(() => reject(new Error('late')), BUDGET_MS * 2),
        ),
    });

    const outcome = expect(hooks.onDisconnect(ALICE, 'a1')).rejects.toMatchObject({
      code: 'overran',
    });
    await vi.advanceTimersByTimeAsync(BUDGET_MS * 2);

    await outcome;
  });

  it('answers in time when it answers just within the budget', async () => {
    vi.useFakeTimers();
    const hooks = running({
      authorizeJoin: () =>
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), BUDGET_MS - 1)),
    });

    const outcome = hooks.authorizeJoin(ALICE, 'lobby');
    await vi.advanceTimersByTimeAsync(BUDGET_MS - 1);

    await expect(outcome).resolves.toBe(true);
  });

  it('overruns when it blocked past the budget before answering', async () => {
    const clock = { now: 0 };
    const hooks = running(
      {
        authorizeJoin: () => {
          clock.now += BUDGET_MS + 1;
          return true;
        },
      },
      () => clock.now,
    );

    await expect(hooks.authorizeJoin(ALICE, 'lobby')).rejects.toMatchObject({ code: 'overran' });
  });
});
