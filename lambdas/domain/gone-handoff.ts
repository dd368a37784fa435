import { METRIC } from '../shared/metric-names.js';
import type { GoneConnection, Services } from './ports.js';

/**
 * Hands connections a post found gone to the `prune` function. A hand-over
 * that fails is counted, not thrown: the request that found them has done its
 * own work and must not answer `internal` for someone else's cleanup; the next
 * fan-out that meets them, or the sweeper, hands them over again.
 */
export async function handOffGone(
  services: Pick<Services, 'pruneQueue' | 'metrics'>,
  gone: readonly GoneConnection[],
): Promise<void> {
  if (gone.length === 0) return;
  try {
    if (services.pruneQueue === undefined) throw new Error('this function has no prune queue');
    await services.pruneQueue.enqueue(gone);
    services.metrics?.count(METRIC.goneHandedOff, gone.length);
  } catch {
    services.metrics?.count(METRIC.goneHandOffFailures, gone.length);
  }
}
