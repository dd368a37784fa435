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
  // A function without a queue is not granted the prune function: counted as not handed over.
  const handedOver =
    services.pruneQueue !== undefined &&
    (await services.pruneQueue.enqueue(gone).then(
      () => true,
      () => false,
    ));
  services.metrics?.count(
    handedOver ? METRIC.goneHandedOff : METRIC.goneHandOffFailures,
    gone.length,
  );
}
