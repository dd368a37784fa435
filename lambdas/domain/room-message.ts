import type { MessageFrame, User } from '../../protocol/messages.js';
import { METRIC } from '../shared/metric-names.js';
import { broadcast, type FanOutReport, readMembers } from './fan-out.js';
import type { Services } from './ports.js';

/** A message numbered, stored and delivered. */
export interface PostedMessage {
  readonly message: MessageFrame;
  readonly report: FanOutReport;
}

/**
 * Numbers a message with the room's next seq, stores it, then delivers it to
 * every connection in the room, handing the gone ones over: what `send` and
 * `publish` do once a message is accepted.
 */
export async function postRoomMessage(
  services: Services,
  room: string,
  from: User,
  data: unknown,
): Promise<PostedMessage> {
  const seq = await services.messages.nextSeq(room);
  const ts = services.clock();
  const message: MessageFrame = { type: 'message', room, seq, from, data, ts };
  // Stored before delivery, so a member that misses the post finds it in history.
  // The members are read meanwhile: after the seq was taken (see join), before any post.
  const expiresAt = Math.ceil(ts / 1000) + services.limits.historyTtlHours * 3600;
  const [members] = await Promise.all([
    readMembers(services, room),
    services.messages.put(message, expiresAt),
  ]);
  services.metrics?.count(METRIC.messagesSent, 1);
  const report = await broadcast(services, room, message, { members });
  return { message, report };
}
