import { admit, requireMember, requireRoomAllowed } from '../admission.js';
import { broadcast } from '../fan-out.js';
import { userOf } from '../identity.js';
import type { RequestHandler } from './request-handler.js';

/** `typing`: tells the room's other connections; never stored, no reply. */
export const typing: RequestHandler<'typing'> = async (services, caller, request) => {
  const { room } = request;
  const state = await admit(services, caller);
  requireRoomAllowed(caller, room);
  requireMember(state, room);
  await broadcast(
    services,
    room,
    { type: 'typing', room, user: userOf(caller.identity) },
    { except: caller.connectionId },
  );
  return undefined;
};
