import { admit } from '../admission.js';
import { type RequestHandler, withId } from './request-handler.js';

/**
 * `leave`: leaves a room. When the user has no connection left there, the
 * membership record's change is announced from the table's stream (the
 * `presence` function), not here. Leaving is never forbidden: it only takes
 * access away.
 */
export const leave: RequestHandler<'leave'> = async (services, caller, request) => {
  const { room } = request;
  await admit(services, caller, { change: { leaveRoom: room } });
  await services.rooms.removeConnection(room, caller.identity.userId, caller.connectionId);
  return withId(request.id, { type: 'left' as const, room });
};
