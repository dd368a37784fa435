import type { User } from '../../../protocol/messages.js';
import { roomAllowed } from '../../auth/room-access.js';
import { ProtocolError } from '../../shared/errors.js';
import { admit, requireRoomAllowed } from '../admission.js';
import { type Caller, keyOf } from '../caller.js';
import { userOf } from '../identity.js';
import type { Services } from '../ports.js';
import { type RequestHandler, withId } from './request-handler.js';

/**
 * `join`: joins a room and answers its members. When this is the user's first
 * connection there, the membership record's change is announced to the others
 * from the table's stream (the `presence` function), coalesced with the
 * room's other arrivals: filling a room costs a frame per member per window,
 * not one per pair of members.
 */
export const join: RequestHandler<'join'> = async (services, caller, request) => {
  const { room } = request;
  const claimAllows = roomAllowed(caller.identity.rooms, room);
  // Asked before the admission, whose write adds the room to the connection:
  // a hook that refuses, throws or overruns leaves nothing to take back.
  const hookAllows = claimAllows && (await authorizedByHook(services, caller, room));
  // The rate limit counts forbidden requests too, those the hook refuses
  // included, and outranks `forbidden` (section 6). A hook that failed has
  // rejected the join already, before any write: the failure is ours, and
  // spends nothing of the caller's rate limit.
  await admit(
    services,
    caller,
    hookAllows
      ? { change: { joinRoom: room, maxRooms: services.limits.maxRoomsPerConnection } }
      : {},
  );
  requireRoomAllowed(caller, room);
  if (!hookAllows) {
    throw new ProtocolError('forbidden', `You may not join room "${room}".`);
  }
  const user = userOf(caller.identity);
  let added: { alreadyIn: boolean } | undefined;
  let snapshot: Awaited<ReturnType<Services['rooms']['snapshot']>>;
  try {
    added = await services.rooms.addConnection(room, user, caller.connectionId);
    // Read after adding: any send that takes a higher seq than this snapshot's
    // also sees this connection among the members, so no message falls between.
    snapshot = await services.rooms.snapshot(room);
  } catch (error) {
    // The client is answered `internal` and treats the room as not joined.
    if (added?.alreadyIn !== true) await undoJoin(services, caller, room, user);
    throw error;
  }
  return withId(request.id, {
    type: 'joined' as const,
    room,
    members: snapshot.members.map(userOf),
    seq: snapshot.seq,
  });
};

/** Whether the deployment's `authorizeJoin` hook lets the caller in; true without hooks. */
async function authorizedByHook(services: Services, caller: Caller, room: string) {
  return services.hooks === undefined || services.hooks.authorizeJoin(caller.identity, room);
}

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
): Promise<void> {
  try {
    // Whatever arrival the add made visible, its removal is a departure on the
    // stream: the others hear both, or (within one window) neither.
    await services.rooms.removeConnection(room, user.userId, caller.connectionId);
    await services.connections.forgetRoom(keyOf(caller), room);
  } catch {
    // The original error is the one to report.
  }
}
