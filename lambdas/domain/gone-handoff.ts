import { METRIC } from '../shared/metric-names.js';
import type { GoneConnection, Services } from './ports.js';
import { handOverWindow } from './pruning.js';

/**
 * Hands connections a post found gone to the `prune` function, each found in
 * a room once per hand-over window across every instance: a busy room's
 * sends, in as many instances as the load needs, all meet the same gone
 * connections until they are removed, and without the claim every instance
 * queued the same removals (a storm of 60 gone connections ran prune 6
 * times). The claim is one write per room. A hand-over that fails is
 * counted, not thrown: the request that found them has done its own work and
 * must not answer `internal` for someone else's cleanup; a later window's
 * fan-out, or the sweeper, hands them over again.
 */
export async function handOffGone(
  services: Pick<Services, 'rooms' | 'pruneQueue' | 'metrics' | 'clock'>,
  gone: readonly GoneConnection[],
): Promise<void> {
  if (gone.length === 0) return;
  const queue = services.pruneQueue;
  if (queue === undefined) {
    // A function without a queue is not granted the prune function: counted as not handed over.
    services.metrics?.count(METRIC.goneHandOffFailures, gone.length);
    return;
  }
  const lot = await claimed(services, gone);
  if (lot.length === 0) return;
  const handedOver = await queue.enqueue(lot).then(
    () => true,
    () => false,
  );
  services.metrics?.count(
    handedOver ? METRIC.goneHandedOff : METRIC.goneHandOffFailures,
    lot.length,
  );
}

/**
 * The gone connections this caller claimed, room by room. Those found outside
 * a room (a direct message's) and those of a room whose claim failed are all
 * handed over: a repeated hand-over is harmless, a lost one is not.
 */
async function claimed(
  services: Pick<Services, 'rooms' | 'clock'>,
  gone: readonly GoneConnection[],
): Promise<GoneConnection[]> {
  const window = handOverWindow(services.clock());
  const byRoom = new Map<string | undefined, GoneConnection[]>();
  for (const connection of gone) {
    const found = byRoom.get(connection.room);
    if (found === undefined) byRoom.set(connection.room, [connection]);
    else found.push(connection);
  }
  const lots = await Promise.all(
    [...byRoom].map(async ([room, found]) => {
      if (room === undefined) return found;
      const ids = [...new Set(found.map((connection) => connection.connectionId))];
      const mine = new Set(await services.rooms.claimGone(room, ids, window).catch(() => ids));
      return found.filter((connection) => mine.has(connection.connectionId));
    }),
  );
  return lots.flat();
}
