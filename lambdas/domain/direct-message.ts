import { stringifyJson } from '../../protocol/json.js';
import type { DirectFrame, User } from '../../protocol/messages.js';
import { recordDeliveries } from './delivery-metrics.js';
import { deliver } from './fan-out.js';
import { handOffGone } from './gone-handoff.js';
import type { Services } from './ports.js';

/** What delivering a `direct` frame did. */
export interface DirectReport {
  /** Connections of the user reached. */
  readonly delivered: number;
  /** Connections found gone, handed to the `prune` function. */
  readonly gone: number;
  /** Posts that failed after retries. */
  readonly failed: number;
}

/**
 * Delivers a `direct` frame to every open connection of user `to` and hands
 * the gone ones to the `prune` function: what `direct` and `publish` to a user do once accepted.
 */
export async function postDirectMessage(
  services: Services,
  to: string,
  from: User,
  data: unknown,
): Promise<DirectReport> {
  const targets = await services.connections.listByUser(to);
  const postedAt = services.clock();
  const frame: DirectFrame = { type: 'direct', from, data, ts: postedAt };
  const report = await deliver(services, targets, stringifyJson(frame));
  recordDeliveries(services, report);
  await handOffGone(
    services,
    report.gone.map((target) => ({ ...target, postedAt })),
  );
  return { delivered: report.delivered, gone: report.gone.length, failed: report.failed };
}
