import type { User } from '../../protocol/messages.js';
import { METRIC } from '../shared/metric-names.js';
import { recordFanOut } from './delivery-metrics.js';
import { fanOut, type GoneTarget } from './fan-out.js';
import type { ConnectionKey, Removal, Services } from './ports.js';

/** How a departure is made. */
export interface DepartureOptions {
  /** Rooms known from elsewhere (where a fan-out found it), in case the record is missing. */
  readonly alsoRooms?: readonly string[];
  /** Leaves a record connected at or after this time (ms) in place. */
  readonly connectedBefore?: number;
}

/** What a departure did, and the gone connections its announcements found. */
export interface Departure {
  readonly kind: Removal['kind'];
  /** To prune next; departing does not recurse, so no announcement is ever dropped. */
  readonly gone: readonly GoneTarget[];
}

/**
 * Removes a connection and its memberships, announcing a presence leave in each
 * room where it was the user's last connection. Used by `$disconnect`, by
 * pruning and by the sweeper; safe to repeat, since every step tolerates
 * records already gone. The memberships of the rooms in `alsoRooms` are
 * removed even when the record is gone, so a departure cut short after
 * deleting the record is finished by the next one.
 */
export async function departConnection(
  services: Services,
  key: ConnectionKey,
  user: User,
  options: DepartureOptions = {},
): Promise<Departure> {
  const removal = await services.connections.remove(
    key,
    options.connectedBefore === undefined ? {} : { connectedBefore: options.connectedBefore },
  );
  if (removal.kind === 'recent') return { kind: removal.kind, gone: [] };
  // Counted once per connection: a repeat finds the record absent.
  if (removal.kind === 'removed') services.metrics?.count(METRIC.connectionsClosed, 1);
  const joined = removal.kind === 'removed' ? removal.rooms : [];
  const rooms = new Set([...joined, ...(options.alsoRooms ?? [])]);
  const gone: GoneTarget[] = [];
  for (const room of rooms) {
    const { lastOfUser } = await services.rooms.removeConnection(
      room,
      key.userId,
      key.connectionId,
    );
    if (lastOfUser) {
      const startedAt = performance.now();
      const report = await fanOut(services, room, {
        type: 'presence',
        room,
        event: 'leave',
        user: { userId: user.userId, name: user.name },
      });
      recordFanOut(services, report, startedAt);
      gone.push(...report.gone.map((target) => ({ target, room })));
    }
  }
  return { kind: removal.kind, gone };
}
