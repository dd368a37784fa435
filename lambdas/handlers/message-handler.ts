import type { Action, ErrorFrame } from '../../protocol/messages.js';
import { parseFrame } from '../../protocol/validate.js';
import type { Caller } from '../domain/caller.js';
import { identityFromContext } from '../domain/identity.js';
import type { Services } from '../domain/ports.js';
import type { RequestHandler } from '../domain/requests/request-handler.js';
import { INTERNAL_MESSAGE, ProtocolError } from '../shared/errors.js';
import { type InvocationContext, startInvocation } from '../shared/invocation-deadline.js';
import { log, type RouteResult, reply, type WebSocketEvent } from './websocket-event.js';

/**
 * The Lambda handler of one message route: parses and validates the frame,
 * runs the request, and turns its reply or error into the route's response.
 * Validation failures are answered before any I/O, so they write nothing.
 */
export function createMessageHandler<A extends Action>(
  action: A,
  run: RequestHandler<A>,
  services: Services,
): (event: WebSocketEvent, context?: InvocationContext) => Promise<RouteResult> {
  return async (event, context) => {
    startInvocation(context);
    const { connectionId, requestId } = event.requestContext;
    const parsed = parseFrame(event.body ?? '');
    if (!parsed.ok)
      return reply(errorFrame(parsed.problem.code, parsed.problem.message, parsed.problem.id));
    const request = parsed.request;
    if (request.action !== action) {
      // API Gateway routes on `action`, so only a misrouted frame gets here.
      return reply(
        errorFrame('unknown_action', `This route does not serve "${request.action}".`, request.id),
      );
    }
    const identity = identityFromContext(event.requestContext.authorizer);
    if (identity === undefined) {
      log('error', 'missing authorizer context', { route: action, connectionId, requestId });
      return reply(errorFrame('internal', INTERNAL_MESSAGE, request.id));
    }
    const { requestTimeEpoch } = event.requestContext;
    const caller: Caller = {
      connectionId,
      identity,
      ...(typeof requestTimeEpoch === 'number' ? { receivedAt: requestTimeEpoch } : {}),
    };
    try {
      return reply(await run(services, caller, request as Parameters<RequestHandler<A>>[2]));
    } catch (error) {
      if (error instanceof ProtocolError)
        return reply(errorFrame(error.code, error.message, request.id));
      log('error', 'request failed', {
        route: action,
        connectionId,
        requestId,
        userId: identity.userId,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      return reply(errorFrame('internal', INTERNAL_MESSAGE, request.id));
    }
  };
}

/** Builds an error frame, echoing the request id when there is one. */
export function errorFrame(code: ErrorFrame['code'], message: string, id?: string): ErrorFrame {
  return id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message };
}
