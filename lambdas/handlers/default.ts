import type { ServerFrame } from '../../protocol/messages.js';
import { parseFrame } from '../../protocol/validate.js';
import { PowertoolsLog } from '../adapters/powertools-log.js';
import { PowertoolsMetrics } from '../adapters/powertools-metrics.js';
import { identityFromContext } from '../domain/identity.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';
import { errorFrame, recordAnswer } from './message-handler.js';
import { type RouteResult, reply, type WebSocketEvent } from './websocket-event.js';

/**
 * The `$default` route: frames whose `action` names no route (or that are not
 * JSON objects at all) land here. Answers without touching the table.
 */
export function createDefaultHandler(telemetry: Telemetry) {
  return (event: WebSocketEvent, context?: HandlerContext): Promise<RouteResult> => {
    const { connectionId, requestId } = event.requestContext;
    const userId = identityFromContext(event.requestContext.authorizer)?.userId;
    return runInvocation(
      telemetry,
      { route: '$default', connectionId, requestId, userId },
      context,
      async () => {
        const frame = answer(event.body ?? '');
        recordAnswer(telemetry, frame);
        return reply(frame);
      },
    );
  };
}

function answer(body: string): ServerFrame {
  const parsed = parseFrame(body);
  if (!parsed.ok) return errorFrame(parsed.problem.code, parsed.problem.message, parsed.problem.id);
  // Every action has its own route, so a valid request here was misrouted.
  return errorFrame(
    'unknown_action',
    `No route serves "${parsed.request.action}".`,
    parsed.request.id,
  );
}

export const handler = createDefaultHandler({
  log: new PowertoolsLog(),
  metrics: new PowertoolsMetrics(),
});
