import type { Caller } from '../domain/caller.js';
import { openConnection } from '../domain/connection-lifecycle.js';
import { identityFromContext } from '../domain/identity.js';
import type { Services } from '../domain/ports.js';
import { type InvocationContext, startInvocation } from '../shared/invocation-deadline.js';
import { createServices } from './clients.js';
import { log, type RouteResult, type WebSocketEvent } from './websocket-event.js';

/** The `$connect` integration; a non-2xx result refuses the upgrade with that status. */
export function createConnectHandler(services: Services) {
  return async (event: WebSocketEvent, context?: InvocationContext): Promise<RouteResult> => {
    startInvocation(context);
    const { connectionId, requestId } = event.requestContext;
    const identity = identityFromContext(event.requestContext.authorizer);
    if (identity === undefined) {
      log('error', 'missing authorizer context', { route: '$connect', connectionId, requestId });
      return { statusCode: 500, body: 'Internal error' };
    }
    const caller: Caller = { connectionId, identity };
    const outcome = await openConnection(services, caller);
    if (outcome === 'too_many_connections') {
      log('info', 'connection limit reached', { connectionId, userId: identity.userId });
      return { statusCode: 429, body: 'Too many connections for this user' };
    }
    return { statusCode: 200 };
  };
}

export const handler = createConnectHandler(createServices(process.env));
