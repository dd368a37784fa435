import { admit } from '../admission.js';
import { broadcast } from '../fan-out.js';
import { userOf } from '../identity.js';
import { type RequestHandler, withId } from './request-handler.js';

/**
 * `leave`: leaves a room; announces the user when it has no connection left there.
 * Leaving is never forbidden: it only takes access away.
 */
export const leave: RequestHandler<'leave'> = async (services, caller, request) => {
  const { room } = request;
  await admit(services, caller, { change: { leaveRoom: room } });
  const { lastOfUser } = await services.rooms.removeConnection(
    room,
    caller.identity.userId,
    caller.connectionId,
  );
  if (lastOfUser) {
    await broadcast(services, room, {
      type: 'presence',
      room,
      event: 'leave',
      user: userOf(caller.identity),
    });
  }
  return withId(request.id, { type: 'left' as const, room });
};
