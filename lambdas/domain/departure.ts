import { METRIC } from '../shared/metric-names.js';
import { forEachBounded } from './concurrency.js';
import type { ConnectionKey, Removal, RemovalGuard, Services } from './ports.js';

/** How a departure is made. */
export interface DepartureOptions {
  /** Rooms known from elsewhere (where a fan-out found it), in case the record is missing. */
  readonly alsoRooms?: readonly string[];
  /** Which records it may delete; all when absent (`$disconnect`). */
  readonly guard?: RemovalGuard;
}

/**
 * Removes a connection and its memberships: what `$disconnect`, the `prune`
 * function and the sweeper do. It announces nothing: a membership record
 * losing its user's last connection is a change on the table's stream, and
 * the `presence` function announces it, once, coalesced with the room's other
 * changes. Safe to repeat, since every step tolerates records already gone.
 * The memberships of the rooms in `alsoRooms` are removed even when the
 * record is gone, so a departure cut short after deleting the record is
 * finished by the next one.
 */
export async function departConnection(
  services: Pick<Services, 'connections' | 'rooms' | 'metrics'>,
  key: ConnectionKey,
  options: DepartureOptions = {},
): Promise<Removal['kind']> {
  const removal = await services.connections.remove(key, options.guard ?? {});
  if (removal.kind === 'recent') return removal.kind;
  // Counted once per connection: a repeat finds the record absent.
  if (removal.kind === 'removed') services.metrics?.count(METRIC.connectionsClosed, 1);
  const joined = removal.kind === 'removed' ? removal.rooms : [];
  const rooms = [...new Set([...joined, ...(options.alsoRooms ?? [])])];
  const [failure] = await forEachBounded(rooms, ROOM_REMOVALS_IN_FLIGHT, async (room) => {
    await services.rooms.removeConnection(room, key.userId, key.connectionId);
  });
  // Every other room is left already; a repeat (the next `$disconnect` retry,
  // a fan-out meeting 410 in that room, the sweeper) finishes this one.
  if (failure !== undefined) throw failure;
  return removal.kind;
}

/**
 * Memberships removed at once: a connection in the most rooms allowed (100)
 * leaves them in 7 rounds rather than 100, well under the table's write rate.
 */
export const ROOM_REMOVALS_IN_FLIGHT = 16;
