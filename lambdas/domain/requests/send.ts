import { ProtocolError } from '../../shared/errors.js';
import { admit, requireMember, requireRoomAllowed } from '../admission.js';
import type { Caller } from '../caller.js';
import { userOf } from '../identity.js';
import type { Services } from '../ports.js';
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
  const data = await dataToSend(services, caller, room, request.data);
  const { message } = await postRoomMessage(services, room, userOf(caller.identity), data);
  return request.id === undefined
    ? undefined
    : { type: 'ack', id: request.id, room, seq: message.seq };
};

/**
 * The data to number, store and deliver, as the deployment's `beforeSend`
 * hook decides. Asked after the admission, which is the read that shows the
 * connection is in the room: the hook only hears of sends the server would
 * accept. So a send the hook refuses, or fails on, has spent a rate-limit
 * token, as every refused request does (PROTOCOL.md section 6); it has taken
 * no seq, stored nothing and reached nobody.
 */
async function dataToSend(
  services: Services,
  caller: Caller,
  room: string,
  data: unknown,
): Promise<unknown> {
  if (services.hooks === undefined) return data;
  const verdict = await services.hooks.beforeSend(caller.identity, room, data);
  if (verdict.kind === 'rejected') throw new ProtocolError('forbidden', verdict.reason);
  if (verdict.replaced) {
    requireDataWithin(services, verdict.data, "data as the server's send hook replaced it");
  }
  return verdict.data;
}
