import type { PublishedToRoom, PublishedToUser, PublishRequest } from '../../protocol/publish.js';
import { postDirectMessage } from './direct-message.js';
import type { Services } from './ports.js';
import { requireDataWithin } from './requests/data-size.js';
import { postRoomMessage } from './room-message.js';

/**
 * `publish`, for other backends: to a room as `send` does (next seq, stored,
 * delivered to every member), to a user as `direct` does. No connection is
 * admitted: the caller's IAM permission to invoke the function is its
 * authorization, so neither rate limit nor room claim applies. Refuses with
 * `too_large` before doing anything.
 */
export async function publish(
  services: Services,
  request: PublishRequest,
): Promise<PublishedToRoom | PublishedToUser> {
  requireDataWithin(services, request.data);
  if ('room' in request) {
    const { message, report } = await postRoomMessage(
      services,
      request.room,
      request.from,
      request.data,
    );
    return { ok: true, room: request.room, seq: message.seq, delivered: report.delivered };
  }
  const report = await postDirectMessage(services, request.user, request.from, request.data);
  return { ok: true, delivered: report.delivered };
}
