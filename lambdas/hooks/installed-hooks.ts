import { stringifyJson } from '../../protocol/json.js';
import type { Identity } from '../domain/identity.js';
import type { SendVerdict, ServerHooks } from '../domain/ports.js';
import { HookFailedError } from './hook-failed-error.js';
import { jsonValueProblem } from './json-value.js';
import { installedHooks } from './registry.js';
import { type TimeBudget, withinBudget } from './time-budget.js';
import type { HookUser, RealtimeHooks } from './types.js';

/** How {@link InstalledHooks} runs the hooks. */
export interface InstalledHooksOptions {
  /** How long one hook call may take, ms (`HOOK_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** @default Date.now */
  readonly clock?: () => number;
  /** Where the hooks are read, on every call. @default installedHooks */
  readonly hooks?: () => RealtimeHooks | undefined;
}

/**
 * The hooks `installHooks` installed, as the request paths call them: within
 * a time budget, their answers checked. Reads the registry on every call,
 * since the services are built at module init, before the generated entry
 * installs the hooks. With none installed it answers at once and calls nothing.
 */
export class InstalledHooks implements ServerHooks {
  private readonly budget: TimeBudget;
  private readonly hooks: () => RealtimeHooks | undefined;

  constructor(options: InstalledHooksOptions) {
    this.budget = { ms: options.timeoutMs, clock: options.clock ?? Date.now };
    this.hooks = options.hooks ?? installedHooks;
  }

  async authorizeJoin(identity: Identity, room: string): Promise<boolean> {
    const hooks = this.hooks();
    const hook = hooks?.authorizeJoin;
    if (hook === undefined) return true;
    const answer: unknown = await withinBudget('authorizeJoin', this.budget, () =>
      hook.call(hooks, { user: hookUser(identity), room }),
    );
    // Anything but a boolean is a defect in the hook; refusing it as `forbidden`
    // would hide the defect, allowing it would open rooms by mistake.
    if (typeof answer !== 'boolean') {
      throw new HookFailedError('authorizeJoin', 'bad_answer', `returned ${kindOf(answer)}`);
    }
    return answer;
  }

  async beforeSend(identity: Identity, room: string, data: unknown): Promise<SendVerdict> {
    const hooks = this.hooks();
    const hook = hooks?.beforeSend;
    if (hook === undefined) return { kind: 'accepted', data, replaced: false };
    // A copy, so a hook that changes it in place and returns nothing cannot
    // slip data past the size check. `data` came from JSON.parse: the copy is exact.
    const copy: unknown = JSON.parse(stringifyJson(data));
    const answer: unknown = await withinBudget('beforeSend', this.budget, () =>
      hook.call(hooks, { user: hookUser(identity), room, data: copy }),
    );
    return verdictOf(answer, data);
  }

  async onConnect(identity: Identity, connectionId: string): Promise<void> {
    const hooks = this.hooks();
    const hook = hooks?.onConnect;
    if (hook === undefined) return;
    await withinBudget('onConnect', this.budget, () =>
      hook.call(hooks, { user: hookUser(identity), connectionId }),
    );
  }

  async onDisconnect(identity: Identity, connectionId: string): Promise<void> {
    const hooks = this.hooks();
    const hook = hooks?.onDisconnect;
    if (hook === undefined) return;
    await withinBudget('onDisconnect', this.budget, () =>
      hook.call(hooks, { user: hookUser(identity), connectionId }),
    );
  }
}

/** The caller as hooks see it (types.ts). */
function hookUser(identity: Identity): HookUser {
  return { id: identity.userId, name: identity.name, rooms: identity.rooms };
}

/** Reads `beforeSend`'s answer: nothing, `{ data }` or `{ reject }`, and nothing else. */
function verdictOf(answer: unknown, sent: unknown): SendVerdict {
  if (answer === undefined) return { kind: 'accepted', data: sent, replaced: false };
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw badSendAnswer(`returned ${kindOf(answer)}, not undefined, { data } or { reject }`);
  }
  const hasData = Object.hasOwn(answer, 'data');
  const hasReject = Object.hasOwn(answer, 'reject');
  if (hasData === hasReject) {
    throw badSendAnswer(`returned an object with ${hasData ? 'both' : 'neither'} data and reject`);
  }
  if (hasReject) {
    const { reject } = answer as { reject: unknown };
    if (typeof reject === 'string') return { kind: 'rejected', reason: reject };
    throw badSendAnswer(`returned { reject } with ${kindOf(reject)}, not a string`);
  }
  const { data } = answer as { data: unknown };
  const problem = readableProblem(data);
  if (problem !== undefined) {
    throw badSendAnswer(`returned data that is not a JSON value: ${problem}`);
  }
  return { kind: 'accepted', data, replaced: true };
}

/** Why `data` is not a JSON value; a getter or proxy that throws while read is a bad answer too. */
function readableProblem(data: unknown): string | undefined {
  try {
    return jsonValueProblem(data);
  } catch (error) {
    throw new HookFailedError('beforeSend', 'bad_answer', 'returned data that cannot be read', {
      cause: error,
    });
  }
}

function badSendAnswer(message: string): HookFailedError {
  return new HookFailedError('beforeSend', 'bad_answer', message);
}

/** A value's kind for a log line: never the value, which may be message content. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
