import { PowertoolsLog } from '../adapters/powertools-log.js';
import { closeConnection } from '../domain/connection-lifecycle.js';
import { identityFromContext } from '../domain/identity.js';
import type { Services } from '../domain/ports.js';
import { createServices } from './clients.js';
import { logHookFailure } from './hook-failure-log.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';
import type { RouteResult, WebSocketEvent } from './websocket-event.js';

/** The `$disconnect` integration: best-effort in AWS, so every step tolerates repeats. */
export function createDisconnectHandler(
  services: Services,
  log: PowertoolsLog = new PowertoolsLog(),
) {
  const telemetry: Telemetry = { log, metrics: services.metrics };
  return (event: WebSocketEvent, context?: HandlerContext): Promise<RouteResult> => {
    const { connectionId, requestId } = event.requestContext;
    const identity = identityFromContext(event.requestContext.authorizer);
    const keys = { route: '$disconnect', connectionId, requestId, userId: identity?.userId };
    return runInvocation(telemetry, keys, context, async () => {
      if (identity === undefined) {
        log.error('missing authorizer context');
        return { statusCode: 200 };
      }
      const report = await closeConnection(services, { connectionId, identity });
      logHookFailure(log, 'onDisconnect', report);
      log.debug('connection closed');
      return { statusCode: 200 };
    });
  };
}

// Posts nothing: the presence function announces the departures from the table's stream.
export const handler = createDisconnectHandler(createServices(process.env));
