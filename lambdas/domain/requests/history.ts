import { stringifyJson } from '../../../protocol/json.js';
import { LIMITS, type MessageFrame } from '../../../protocol/messages.js';
import { utf8Length } from '../../../protocol/validate.js';
import { admit, requireMember, requireRoomAllowed } from '../admission.js';
import { type RequestHandler, withId } from './request-handler.js';

/** Room left in a history reply for its envelope, under API Gateway's 128 KiB per message. */
const ENVELOPE_BYTES = 1024;

/** `history`: stored messages after a seq, ascending; fewer when the reply would be too big. */
export const history: RequestHandler<'history'> = async (services, caller, request) => {
  const { room } = request;
  const state = await admit(services, caller);
  requireRoomAllowed(caller, room);
  requireMember(state, room);
  const page = await services.messages.after(room, request.after, request.limit, services.clock());
  const { messages, truncated } = fitInOneFrame(page.messages);
  return withId(request.id, {
    type: 'history' as const,
    room,
    messages,
    hasMore: page.hasMore || truncated,
  });
};

function fitInOneFrame(messages: readonly MessageFrame[]) {
  const budget = LIMITS.maxPostBytes - ENVELOPE_BYTES;
  let used = 0;
  const fitting: MessageFrame[] = [];
  for (const message of messages) {
    used += utf8Length(stringifyJson(message)) + 1;
    if (used > budget) return { messages: fitting, truncated: true };
    fitting.push(message);
  }
  return { messages: fitting, truncated: false };
}
