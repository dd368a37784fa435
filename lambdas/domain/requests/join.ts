import { roomAllowed } from '../../auth/room-access.js';
import { admit, requireRoomAllowed } from '../admission.js';
import { broadcast } from '../fan-out.js';
import { userOf } from '../identity.js';
import { type RequestHandler, withId } from './request-handler.js';

/** `join`: joins a room; announces the user when this is its first connection there. */
export const join: RequestHandler<'join'> = async (services, caller, request) => {
  const { room } = request;
  const allowed = roomAllowed(caller.identity.rooms, room);
  // The rate limit counts forbidden requests too, and outranks `forbidden` (section 6).
  await admit(
    services,
    caller,
    allowed ? { change: { joinRoom: room, maxRooms: services.limits.maxRoomsPerConnection } } : {},
  );
  requireRoomAllowed(caller, room);
  const user = userOf(caller.identity);
  const { firstOfUser } = await services.rooms.addConnection(room, user, caller.connectionId);
  // Read after adding: any send that takes a higher seq than this snapshot's
  // also sees this connection among the members, so no message falls between.
  const snapshot = await services.rooms.snapshot(room);
  if (firstOfUser) {
    await broadcast(
      services,
      room,
      { type: 'presence', room, event: 'join', user },
      { except: caller.connectionId, members: snapshot.members },
    );
  }
  return withId(request.id, {
    type: 'joined' as const,
    room,
    members: snapshot.members.map(userOf),
    seq: snapshot.seq,
  });
};
