import { admit } from '../admission.js';
import { postDirectMessage } from '../direct-message.js';
import { userOf } from '../identity.js';
import { requireDataWithin } from './data-size.js';
import type { RequestHandler } from './request-handler.js';

/** `direct`: delivers to every open connection of one user, the caller's own included. */
export const direct: RequestHandler<'direct'> = async (services, caller, request) => {
  requireDataWithin(services, request.data);
  await admit(services, caller);
  const report = await postDirectMessage(
    services,
    request.to,
    userOf(caller.identity),
    request.data,
  );
  return request.id === undefined
    ? undefined
    : { type: 'ack', id: request.id, delivered: report.delivered };
};
