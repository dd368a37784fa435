import { METRIC } from '../shared/metric-names.js';
import { forEachBounded } from './concurrency.js';
import { departConnection } from './departure.js';
import type { GoneConnection, HandOverWindow, Services } from './ports.js';

/**
 * API Gateway answers 410 to posts while a connection's `$connect` runs (up to
 * its 29-second integration timeout), after `$connect` has recorded it; a
 * younger record that answers gone may be opening, so pruning leaves it (TTL
 * and later fan-outs remove it if it really is gone).
 */
export const CONNECT_GRACE_MS = 30_000;

/**
 * Gone connections one `prune` invocation removes at most: the queue hands
 * them over in lots of this size, so even a mass disconnect in a room of
 * thousands is a few invocations of about a second each (100 departures, 8 at
 * a time, two writes each), never one that runs out of time, and few cold
 * starts for its writes (lots of 25 took a storm of 60 in 3 invocations).
 */
export const PRUNES_PER_INVOCATION = 100;

/**
 * A connection found gone in a room is handed over to `prune` once per window
 * of this length, by whichever instance claims it first (the claim is an item
 * of the room): time for prune to remove it. One that prune left as too recent,
 * or whose pruning failed for good, is handed over again in a later window.
 */
export const HAND_OVER_WINDOW_MS = 60_000;

/** The hand-over window `now` (ms) falls in. */
export function handOverWindow(now: number): HandOverWindow {
  const startMs = now - (now % HAND_OVER_WINDOW_MS);
  return { startMs, endMs: startMs + HAND_OVER_WINDOW_MS };
}

/** Departures made at once. */
const DEPARTURES_IN_FLIGHT = 8;

/** What one pruning did. */
export interface PruneReport {
  /** Connection records removed (a repeat finds them absent and counts nothing). */
  readonly removed: number;
  /** Departures that failed after retries; the caller decides whether to retry. */
  readonly failed: number;
}

/**
 * Removes connections found gone, with their memberships: the `prune`
 * function's work and the sweeper's. Announces nothing itself: each room that
 * loses a user's last connection is a membership change on the table's
 * stream, announced once by the `presence` function, so connections found
 * gone by many fan-outs at once are still announced once. The same
 * connection handed over twice is departed once; repeats across invocations
 * find the records absent.
 */
export async function pruneGone(
  services: Pick<Services, 'connections' | 'rooms' | 'metrics' | 'clock'>,
  gone: readonly GoneConnection[],
): Promise<PruneReport> {
  const connectedBefore = services.clock() - CONNECT_GRACE_MS;
  const byConnection = new Map<string, { connection: GoneConnection; rooms: Set<string> }>();
  for (const connection of gone) {
    const entry = byConnection.get(connection.connectionId) ?? {
      connection,
      rooms: new Set<string>(),
    };
    if (connection.room !== undefined) entry.rooms.add(connection.room);
    byConnection.set(connection.connectionId, entry);
  }
  let removed = 0;
  const failures = await forEachBounded(
    [...byConnection.values()],
    DEPARTURES_IN_FLIGHT,
    async ({ connection, rooms }) => {
      const kind = await departConnection(services, connection, {
        alsoRooms: [...rooms],
        connectedBefore,
      });
      if (kind === 'removed') removed++;
    },
  );
  services.metrics?.count(METRIC.gonePruned, removed);
  return { removed, failed: failures.length };
}
