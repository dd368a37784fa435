import type { InvocationLog } from '../adapters/powertools-log.js';
import type { HookReport } from '../domain/connection-lifecycle.js';
import type { HookName } from '../hooks/types.js';
import { describeError } from './error-text.js';

/**
 * Logs an `onConnect` or `onDisconnect` hook that failed, at WARN: the
 * connection stands, so nobody else hears of it, yet it is the deployment's
 * own code failing on every connection until someone reads this line.
 */
export function logHookFailure(log: InvocationLog, hook: HookName, report: HookReport): void {
  if (!('hookFailure' in report)) return;
  log.warn(`${hook} hook failed`, { hook, error: describeError(report.hookFailure) });
}
