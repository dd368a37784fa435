import { stringifyJson } from '../../../protocol/json.js';
import { admit } from '../admission.js';
import { deliver, prune } from '../fan-out.js';
import { userOf } from '../identity.js';
import { requireDataWithin } from './data-size.js';
import type { RequestHandler } from './request-handler.js';

/** `direct`: delivers to every open connection of one user, the caller's own included. */
export const direct: RequestHandler<'direct'> = async (services, caller, request) => {
  requireDataWithin(services, request.data);
  await admit(services, caller);
  const targets = await services.connections.listByUser(request.to);
  const payload = stringifyJson({
    type: 'direct',
    from: userOf(caller.identity),
    data: request.data,
    ts: services.clock(),
  });
  const report = await deliver(services, targets, payload);
  await prune(
    services,
    report.gone.map((target) => ({ target })),
  );
  return request.id === undefined
    ? undefined
    : { type: 'ack', id: request.id, delivered: report.delivered };
};
