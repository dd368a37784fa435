import type { User } from '../../protocol/messages.js';
import { announcesAt, broadcast } from './fan-out.js';
import type { ConnectionKey, Removal, Services } from './ports.js';

/** How a departure is made. */
export interface DepartureOptions {
  /** Rooms known from elsewhere (where a fan-out found it), in case the record is missing. */
  readonly alsoRooms?: readonly string[];
  /** Pruning depth, which bounds the chain of announcements. */
  readonly depth?: number;
  /** Leaves a record connected at or after this time (ms) in place. */
  readonly connectedBefore?: number;
}

/**
 * Removes a connection and its memberships, announcing a presence leave in each
 * room where it was the user's last connection. Used by `$disconnect` and by
 * pruning; safe to repeat, since every step tolerates records already gone.
 * Returns what happened to the connection record.
 */
export async function departConnection(
  services: Services,
  key: ConnectionKey,
  user: User,
  options: DepartureOptions = {},
): Promise<Removal['kind']> {
  const depth = options.depth ?? 0;
  const removal = await services.connections.remove(
    key,
    options.connectedBefore === undefined ? {} : { connectedBefore: options.connectedBefore },
  );
  if (removal.kind === 'recent') return removal.kind;
  const joined = removal.kind === 'removed' ? removal.rooms : [];
  const rooms = new Set([...joined, ...(options.alsoRooms ?? [])]);
  for (const room of rooms) {
    const { lastOfUser } = await services.rooms.removeConnection(
      room,
      key.userId,
      key.connectionId,
    );
    if (lastOfUser && announcesAt(depth)) {
      await broadcast(
        services,
        room,
        { type: 'presence', room, event: 'leave', user: { userId: user.userId, name: user.name } },
        { depth },
      );
    }
  }
  return removal.kind;
}
