import { afterEach, describe, expect, it } from 'vitest';
import { installedHooks, installHooks } from '../../lambdas/hooks/registry.js';
import type { AuthorizeJoinInput, RealtimeHooks } from '../../lambdas/hooks/types.js';

afterEach(() => {
  installHooks({});
});

describe('installHooks', () => {
  it('installs hooks that the reader returns afterwards, replacing those installed before', () => {
    const first: RealtimeHooks = { authorizeJoin: () => true };
    const second: RealtimeHooks = { beforeSend: () => undefined };

    installHooks(first);
    expect(installedHooks()).toBe(first);
    installHooks(second);

    expect(installedHooks()).toBe(second);
  });

  it('accepts every hook, and members left undefined', () => {
    const hooks: RealtimeHooks = {
      authorizeJoin: () => true,
      beforeSend: () => undefined,
      onConnect: () => {},
      onDisconnect: async () => {},
    };

    expect(() => installHooks(hooks)).not.toThrow();
    expect(() => installHooks({ onConnect: undefined })).not.toThrow();
  });

  it('keeps hooks across copies of the module, which share one global slot', () => {
    const hooks: RealtimeHooks = { onConnect: () => {} };

    installHooks(hooks);

    expect(
      (globalThis as Record<symbol, unknown>)[Symbol.for('serverless-websocket-backend.hooks')],
    ).toBe(hooks);
  });

  it.each([
    ['null', null, 'hooks must be an object of hook functions, got null'],
    ['a function', () => {}, 'hooks must be an object of hook functions, got function'],
    ['an array', [], 'hooks must be an object of hook functions, got an array'],
    ['a string', 'hooks', 'hooks must be an object of hook functions, got string'],
  ])('refuses %s with a TypeError naming what it got', (_, value, message) => {
    expect(() => installHooks(value as unknown as RealtimeHooks)).toThrow(
      new TypeError(`installHooks: ${message}`),
    );
  });

  it('refuses a hook that is not a function, naming it', () => {
    const hooks = { beforeSend: { data: 1 } } as unknown as RealtimeHooks;

    expect(() => installHooks(hooks)).toThrow(
      new TypeError('installHooks: hooks.beforeSend must be a function, got object'),
    );
  });

  it('refuses a misspelt hook, which would otherwise never be called', () => {
    const hooks = { beforesend: () => undefined } as unknown as RealtimeHooks;

    expect(() => installHooks(hooks)).toThrow(
      new TypeError(
        'installHooks: unknown hook "beforesend"; the hooks are authorizeJoin, beforeSend, onConnect, onDisconnect',
      ),
    );
  });

  it('accepts a class instance, whose own fields are its state, not misspelt hooks', () => {
    class Moderation implements RealtimeHooks {
      private readonly banned = new Set(['mallory']);
      authorizeJoin({ user }: AuthorizeJoinInput) {
        return !this.banned.has(user.id);
      }
    }

    expect(() => installHooks(new Moderation())).not.toThrow();
  });

  it('leaves the installed hooks in place when it refuses', () => {
    const hooks: RealtimeHooks = { authorizeJoin: () => true };
    installHooks(hooks);

    expect(() => installHooks(null as unknown as RealtimeHooks)).toThrow(TypeError);

    expect(installedHooks()).toBe(hooks);
  });
});
