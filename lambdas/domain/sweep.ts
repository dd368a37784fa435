import { forEachBounded } from './concurrency.js';
import type { Services } from './ports.js';
import { CONNECT_GRACE_MS, pruneGone } from './pruning.js';

/** What one sweep did. */
export interface SweepReport {
  /** Connections asked about through the management API. */
  readonly checked: number;
  /** Connections API Gateway no longer knew, removed with their memberships. */
  readonly pruned: number;
  /** Checks or removals that failed after retries; the next sweep tries again. */
  readonly failed: number;
  /** False when the deadline stopped the sweep before its last shard. */
  readonly complete: boolean;
}

/** Management API checks in flight at once: well under the account's request rate. */
export const SWEEP_CONCURRENCY = 16;
/** A page is started only with this much time left, so its checks can finish. */
export const PAGE_RESERVE_MS = 10_000;

export interface SweepOptions {
  /** When the sweep must have finished (ms since the epoch). */
  readonly deadline: () => number;
}

/**
 * Finds connections whose `$disconnect` never arrived (AWS delivers it on a
 * best-effort basis): lists every connection record through the sweep index,
 * asks API Gateway about each one (`GetConnection`) and departs the ones it
 * answers 410 for, as the `prune` function does (their presence leaves are
 * announced from the table's stream).
 * Records younger than the connect grace are skipped: their `$connect` may
 * still be running, and API Gateway answers 410 until it has finished.
 * Shards are visited from a rotating start, so a sweep cut short by its
 * deadline does not always leave the same shards for last.
 */
export async function sweep(services: Services, options: SweepOptions): Promise<SweepReport> {
  const now = services.clock();
  const connectedBefore = now - CONNECT_GRACE_MS;
  const shards = services.connections.sweepShards;
  const start = Math.floor(now / 60_000) % shards;
  let checked = 0;
  let pruned = 0;
  let failed = 0;
  for (let offset = 0; offset < shards; offset++) {
    for await (const page of services.connections.sweepPages(
      (start + offset) % shards,
      connectedBefore,
    )) {
      if (Date.now() + PAGE_RESERVE_MS > options.deadline()) {
        return { checked, pruned, failed, complete: false };
      }
      const failures = await forEachBounded(page, SWEEP_CONCURRENCY, async (connection) => {
        checked++;
        if ((await services.notifier.probe(connection.connectionId)) === 'live') return;
        const outcome = await pruneGone(services, [connection]);
        pruned += outcome.removed;
        if (outcome.failed > 0) throw new Error('a departure failed; the next sweep retries it');
      });
      failed += failures.length;
    }
  }
  return { checked, pruned, failed, complete: true };
}
