import type { User } from '../../../protocol/messages.js';
import { roomAllowed } from '../../auth/room-access.js';
import { admit, requireRoomAllowed } from '../admission.js';
import { type Caller, keyOf } from '../caller.js';
import { broadcast } from '../fan-out.js';
import { userOf } from '../identity.js';
import type { Services } from '../ports.js';
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
  let added: { firstOfUser: boolean; alreadyIn: boolean } | undefined;
  let snapshot: Awaited<ReturnType<Services['rooms']['snapshot']>>;
  try {
    added = await services.rooms.addConnection(room, user, caller.connectionId);
    // Read after adding: any send that takes a higher seq than this snapshot's
    // also sees this connection among the members, so no message falls between.
    snapshot = await services.rooms.snapshot(room);
  } catch (error) {
    // The client is answered `internal` and treats the room as not joined.
    if (added?.alreadyIn !== true) await undoJoin(services, caller, room, user, added);
    throw error;
  }
  if (added.firstOfUser) {
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

/**
 * Takes back a join that failed after its admission wrote the room to the
 * connection record, so that the connection is in the room on both records or
 * on neither: otherwise it could `send` to a room whose fan-out never reaches
 * it. Best effort: when DynamoDB is failing this may fail too, and `leave`,
 * `$disconnect` or pruning clean up later.
 */
async function undoJoin(
  services: Services,
  caller: Caller,
  room: string,
  user: User,
  added: { firstOfUser: boolean } | undefined,
): Promise<void> {
  try {
    const { lastOfUser } = await services.rooms.removeConnection(
      room,
      user.userId,
      caller.connectionId,
    );
    await services.connections.forgetRoom(keyOf(caller), room);
    // Announced as joined earlier through this connection (a join whose own
    // add failed cannot tell): the others must hear that the user has gone.
    if (lastOfUser && added === undefined) {
      await broadcast(services, room, { type: 'presence', room, event: 'leave', user });
    }
  } catch {
    // The original error is the one to report.
  }
}
