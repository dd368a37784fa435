import type { HookName, RealtimeHooks } from './types.js';

/**
 * Where the installed hooks live. A global under a registered symbol, not a
 * module variable: should a bundle ever hold two copies of this module (the
 * generated entry resolving it by another path than the handlers do), a
 * module variable would leave the handlers with no hooks, silently letting
 * through every join and send the hooks would refuse.
 */
const SLOT = Symbol.for('serverless-websocket-backend.hooks');

type Slot = { [SLOT]?: RealtimeHooks };

/** Every hook there is (a record, so a hook added to the type must be added here). */
const KNOWN: Readonly<Record<HookName, true>> = {
  authorizeJoin: true,
  beforeSend: true,
  onConnect: true,
  onDisconnect: true,
};
const HOOK_NAMES = Object.keys(KNOWN) as HookName[];

/**
 * Installs the deployment's hooks for the handlers of this execution
 * environment, replacing any installed before; called once at init by the
 * entry the construct generates. Throws a `TypeError` when `hooks` is not an
 * object, a hook in it is not a function, or an object literal has a member
 * that is no hook: a broken hooks module fails the function's init rather
 * than let requests through unchecked.
 */
export function installHooks(hooks: RealtimeHooks): void {
  (globalThis as Slot)[SLOT] = checked(hooks);
}

/**
 * The installed hooks, or `undefined` when none are. Read on every call, not
 * at module init: the generated entry's imports evaluate the handler module
 * (and its services) before `installHooks` runs.
 */
export function installedHooks(): RealtimeHooks | undefined {
  return (globalThis as Slot)[SLOT];
}

function checked(hooks: unknown): RealtimeHooks {
  if (typeof hooks !== 'object' || hooks === null || Array.isArray(hooks)) {
    throw new TypeError(
      `installHooks: hooks must be an object of hook functions, got ${describe(hooks)}`,
    );
  }
  const members = hooks as Record<string, unknown>;
  // A misspelt hook would otherwise never be called, and nobody would know.
  // Only in an object literal: a class instance's own fields are its state.
  const prototype: unknown = Object.getPrototypeOf(hooks);
  if (prototype === Object.prototype || prototype === null) {
    for (const key of Object.keys(members)) {
      if (!Object.hasOwn(KNOWN, key)) {
        throw new TypeError(
          `installHooks: unknown hook "${key}"; the hooks are ${HOOK_NAMES.join(', ')}`,
        );
      }
    }
  }
  for (const name of HOOK_NAMES) {
    const hook = members[name];
    if (hook !== undefined && typeof hook !== 'function') {
      throw new TypeError(`installHooks: hooks.${name} must be a function, got ${describe(hook)}`);
    }
  }
  return hooks as RealtimeHooks;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
