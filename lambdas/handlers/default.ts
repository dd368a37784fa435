import { parseFrame } from '../../protocol/validate.js';
import { errorFrame } from './message-handler.js';
import { type RouteResult, reply, type WebSocketEvent } from './websocket-event.js';

/**
 * The `$default` route: frames whose `action` names no route (or that are not
 * JSON objects at all) land here. Answers without touching the table.
 */
export const handler = async (event: WebSocketEvent): Promise<RouteResult> => {
  const parsed = parseFrame(event.body ?? '');
  if (!parsed.ok) {
    return reply(errorFrame(parsed.problem.code, parsed.problem.message, parsed.problem.id));
  }
  // Every action has its own route, so a valid request here was misrouted.
  return reply(
    errorFrame('unknown_action', `No route serves "${parsed.request.action}".`, parsed.request.id),
  );
};
