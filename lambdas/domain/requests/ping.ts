import { admit } from '../admission.js';
import { type RequestHandler, withId } from './request-handler.js';

/** `ping`: answers `pong`; it counts against the rate limit like any request. */
export const ping: RequestHandler<'ping'> = async (services, caller, request) => {
  await admit(services, caller);
  return withId(request.id, { type: 'pong' as const, ts: services.clock() });
};
