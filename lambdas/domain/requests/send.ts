import type { MessageFrame } from '../../../protocol/messages.js';
import { admit, requireMember, requireRoomAllowed } from '../admission.js';
import { broadcast, readMembers } from '../fan-out.js';
import { userOf } from '../identity.js';
import { requireDataWithin } from './data-size.js';
import type { RequestHandler } from './request-handler.js';

/** `send`: numbers the message, stores it, then delivers it to the whole room. */
export const send: RequestHandler<'send'> = async (services, caller, request) => {
  const { room } = request;
  requireDataWithin(services, request.data);
  const state = await admit(services, caller);
  requireRoomAllowed(caller, room);
  requireMember(state, room);
  const seq = await services.messages.nextSeq(room);
  const ts = services.clock();
  const message: MessageFrame = {
    type: 'message',
    room,
    seq,
    from: userOf(caller.identity),
    data: request.data,
    ts,
  };
  // Stored before delivery, so a member that misses the post finds it in history.
  // The members are read meanwhile: after the seq was taken (see join), before any post.
  const expiresAt = Math.ceil(ts / 1000) + services.limits.historyTtlHours * 3600;
  const [members] = await Promise.all([
    readMembers(services, room),
    services.messages.put(message, expiresAt),
  ]);
  await broadcast(services, room, message, { members });
  return request.id === undefined ? undefined : { type: 'ack', id: request.id, room, seq };
};
