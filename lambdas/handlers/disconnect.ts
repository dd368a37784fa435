import { closeConnection } from '../domain/connection-lifecycle.js';
import { identityFromContext } from '../domain/identity.js';
import type { Services } from '../domain/ports.js';
import { type InvocationContext, startInvocation } from '../shared/invocation-deadline.js';
import { createNotifier, createServices } from './clients.js';
import { log, type RouteResult, type WebSocketEvent } from './websocket-event.js';

/** The `$disconnect` integration: best-effort in AWS, so every step tolerates repeats. */
export function createDisconnectHandler(services: Services) {
  return async (event: WebSocketEvent, context?: InvocationContext): Promise<RouteResult> => {
    startInvocation(context);
    const { connectionId, requestId } = event.requestContext;
    const identity = identityFromContext(event.requestContext.authorizer);
    if (identity === undefined) {
      log('error', 'missing authorizer context', { route: '$disconnect', connectionId, requestId });
      return { statusCode: 200 };
    }
    await closeConnection(services, { connectionId, identity });
    return { statusCode: 200 };
  };
}

export const handler = createDisconnectHandler(
  createServices(process.env, createNotifier(process.env)),
);
