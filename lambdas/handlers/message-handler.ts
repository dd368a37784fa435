import type { Action, ErrorFrame, ServerFrame } from '../../protocol/messages.js';
import { parseFrame } from '../../protocol/validate.js';
import { PowertoolsLog } from '../adapters/powertools-log.js';
import type { Caller } from '../domain/caller.js';
import { type Identity, identityFromContext } from '../domain/identity.js';
import type { Services } from '../domain/ports.js';
import type { RequestHandler } from '../domain/requests/request-handler.js';
import { INTERNAL_MESSAGE, ProtocolError } from '../shared/errors.js';
import { describeError } from './error-text.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';
import { type RouteResult, reply, type WebSocketEvent } from './websocket-event.js';

/**
 * The Lambda handler of one message route: parses and validates the frame,
 * runs the request, and turns its reply or error into the route's response.
 * Validation failures are answered before any I/O, so they write nothing.
 */
export function createMessageHandler<A extends Action>(
  action: A,
  run: RequestHandler<A>,
  services: Services,
  log: PowertoolsLog = new PowertoolsLog(),
): (event: WebSocketEvent, context?: HandlerContext) => Promise<RouteResult> {
  const telemetry: Telemetry = { log, metrics: services.metrics };

  async function answer(
    event: WebSocketEvent,
    identity: Identity | undefined,
  ): Promise<ServerFrame | undefined> {
    const parsed = parseFrame(event.body ?? '');
    if (!parsed.ok)
      return errorFrame(parsed.problem.code, parsed.problem.message, parsed.problem.id);
    const request = parsed.request;
    if (request.action !== action) {
      // API Gateway routes on `action`, so only a misrouted frame gets here.
      return errorFrame(
        'unknown_action',
        `This route does not serve "${request.action}".`,
        request.id,
      );
    }
    if (identity === undefined) {
      log.error('missing authorizer context');
      return errorFrame('internal', INTERNAL_MESSAGE, request.id);
    }
    const { connectionId, requestTimeEpoch } = event.requestContext;
    const caller: Caller = {
      connectionId,
      identity,
      ...(typeof requestTimeEpoch === 'number' ? { receivedAt: requestTimeEpoch } : {}),
    };
    try {
      return await run(services, caller, request as Parameters<RequestHandler<A>>[2]);
    } catch (error) {
      if (error instanceof ProtocolError) return errorFrame(error.code, error.message, request.id);
      const secrets = 'token' in request ? [request.token] : [];
      log.error('request failed', { error: describeError(error, secrets) });
      return errorFrame('internal', INTERNAL_MESSAGE, request.id);
    }
  }

  return (event, context) => {
    const { connectionId, requestId } = event.requestContext;
    const identity = identityFromContext(event.requestContext.authorizer);
    const keys = { route: action, connectionId, requestId, userId: identity?.userId };
    return runInvocation(telemetry, keys, context, async () => {
      const frame = await answer(event, identity);
      recordAnswer(telemetry, frame);
      return reply(frame);
    });
  };
}

/**
 * Logs and counts the frame a message route answers. One line per request at
 * DEBUG, not INFO: at a line per message, CloudWatch Logs ingestion would cost
 * more than the Lambda invocations themselves. POWERTOOLS_LOGGER_SAMPLE_RATE
 * turns DEBUG on for that share of invocations, and POWERTOOLS_LOG_LEVEL=DEBUG
 * for all of them while debugging; failures are logged at ERROR where they
 * happen, and refusals are counted by code in the `Errors` metric.
 */
export function recordAnswer(telemetry: Telemetry, frame: ServerFrame | undefined): void {
  if (frame?.type === 'error') {
    telemetry.metrics?.errorAnswered(frame.code);
    telemetry.log.debug('request refused', { code: frame.code });
  } else {
    telemetry.log.debug('request answered', { reply: frame?.type ?? 'none' });
  }
}

/** Builds an error frame, echoing the request id when there is one. */
export function errorFrame(code: ErrorFrame['code'], message: string, id?: string): ErrorFrame {
  return id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message };
}
