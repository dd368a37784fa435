import { METRIC } from '../shared/metric-names.js';
import { forEachBounded } from './concurrency.js';
import { departConnection } from './departure.js';
import type { GoneConnection, HandOverWindow, RemovalGuard, Services } from './ports.js';

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
 * How far API Gateway's clock (a request's `requestTimeEpoch`) may be ahead
 * of a function's (a post's `postedAt`) without a request made after a 410
 * seeming to come before it. AWS's clocks agree to well under a millisecond;
 * a connection that sent its last request this close to being found gone
 * waits for the grace instead.
 */
export const CLOCK_SKEW_MS = 100;

/**
 * Removes connections found gone, with their memberships: the `prune`
 * function's work and the sweeper's. Announces nothing itself: each room that
 * loses a user's last connection is a membership change on the table's
 * stream, announced once by the `presence` function, so connections found
 * gone by many fan-outs at once are still announced once. The same
 * connection handed over twice is departed once; repeats across invocations
 * find the records absent.
 *
 * A 410 proves a connection gone only once it had opened: API Gateway
 * answers 410 while `$connect` runs, after `$connect` has recorded it. So a
 * connection is removed only when, at the post that found it gone, it had
 * connected more than the grace before, or a request it sent had arrived:
 * judged at the post, not now, since a prune runs late (queued, or retried a
 * minute or two after a failure), by when a connection found in its
 * handshake may have opened and be live.
 */
export async function pruneGone(
  services: Pick<Services, 'connections' | 'rooms' | 'metrics' | 'clock'>,
  gone: readonly GoneConnection[],
): Promise<PruneReport> {
  const now = services.clock();
  const byConnection = new Map<string, HandedOver>();
  for (const connection of gone) {
    const entry = byConnection.get(connection.connectionId) ?? {
      connection,
      rooms: new Set<string>(),
    };
    if (connection.room !== undefined) entry.rooms.add(connection.room);
    // The latest post that found it gone is the one most requests came before.
    if (connection.postedAt !== undefined) {
      entry.postedAt = Math.max(entry.postedAt ?? connection.postedAt, connection.postedAt);
    }
    byConnection.set(connection.connectionId, entry);
  }
  let removed = 0;
  const failures = await forEachBounded(
    [...byConnection.values()],
    DEPARTURES_IN_FLIGHT,
    async ({ connection, rooms, postedAt }) => {
      // The sweeper's are found now; so are those of an event from before postedAt existed.
      const guard: RemovalGuard = {
        connectedBefore: (postedAt ?? now) - CONNECT_GRACE_MS,
        ...(postedAt === undefined ? {} : { openedBefore: postedAt - CLOCK_SKEW_MS }),
      };
      const kind = await departConnection(services, connection, { alsoRooms: [...rooms], guard });
      if (kind === 'removed') removed++;
    },
  );
  services.metrics?.count(METRIC.gonePruned, removed);
  return { removed, failed: failures.length };
}

/** One connection's hand-overs in an invocation, merged. */
interface HandedOver {
  readonly connection: GoneConnection;
  readonly rooms: Set<string>;
  postedAt?: number;
}
