import type { User } from '../../protocol/messages.js';
import { announcesAt, broadcast } from './fan-out.js';
import type { ConnectionKey, Services } from './ports.js';

/**
 * Removes a connection and its memberships, announcing a presence leave in each
 * room where it was the user's last connection. Used by `$disconnect` and by
 * pruning; safe to repeat, since every step tolerates records already gone.
 * `alsoRooms` covers rooms known from elsewhere when the record itself is missing.
 */
export async function departConnection(
  services: Services,
  key: ConnectionKey,
  user: User,
  alsoRooms: readonly string[] = [],
  depth = 0,
): Promise<void> {
  const removed = await services.connections.remove(key);
  const rooms = new Set([...(removed?.rooms ?? []), ...alsoRooms]);
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
}
