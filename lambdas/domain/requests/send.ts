import { admit, requireMember, requireRoomAllowed } from '../admission.js';
import { userOf } from '../identity.js';
import { postRoomMessage } from '../room-message.js';
import { requireDataWithin } from './data-size.js';
import type { RequestHandler } from './request-handler.js';

/** `send`: numbers the message, stores it, then delivers it to the whole room. */
export const send: RequestHandler<'send'> = async (services, caller, request) => {
  const { room } = request;
  requireDataWithin(services, request.data);
  const state = await admit(services, caller);
  requireRoomAllowed(caller, room);
  requireMember(state, room);
  const { message } = await postRoomMessage(services, room, userOf(caller.identity), request.data);
  return request.id === undefined
    ? undefined
    : { type: 'ack', id: request.id, room, seq: message.seq };
};
