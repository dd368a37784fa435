import { PowertoolsLog } from '../adapters/powertools-log.js';
import type { Caller } from '../domain/caller.js';
import { openConnection } from '../domain/connection-lifecycle.js';
import { identityFromContext } from '../domain/identity.js';
import type { Services } from '../domain/ports.js';
import { createServices } from './clients.js';
import { logHookFailure } from './hook-failure-log.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';
import type { RouteResult, WebSocketEvent } from './websocket-event.js';

/** The `$connect` integration; a non-2xx result refuses the upgrade with that status. */
export function createConnectHandler(services: Services, log: PowertoolsLog = new PowertoolsLog()) {
  const telemetry: Telemetry = { log, metrics: services.metrics };
  return (event: WebSocketEvent, context?: HandlerContext): Promise<RouteResult> => {
    const { connectionId, requestId } = event.requestContext;
    const identity = identityFromContext(event.requestContext.authorizer);
    const keys = { route: '$connect', connectionId, requestId, userId: identity?.userId };
    return runInvocation(telemetry, keys, context, async () => {
      if (identity === undefined) {
        log.error('missing authorizer context');
        return { statusCode: 500, body: 'Internal error' };
      }
      const caller: Caller = { connectionId, identity };
      const outcome = await openConnection(services, caller);
      if (outcome.kind === 'too_many_connections') {
        // INFO: rare, and what support needs when someone cannot connect.
        log.info('connection limit reached');
        return { statusCode: 429, body: 'Too many connections for this user' };
      }
      logHookFailure(log, 'onConnect', outcome);
      log.debug('connection opened');
      return { statusCode: 200 };
    });
  };
}

export const handler = createConnectHandler(createServices(process.env));
