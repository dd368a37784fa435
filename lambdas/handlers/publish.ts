import type { ErrorCode } from '../../protocol/messages.js';
import { type PublishResult, parsePublishRequest } from '../../protocol/publish.js';
import { PowertoolsLog } from '../adapters/powertools-log.js';
import type { Services } from '../domain/ports.js';
import { publish } from '../domain/publish.js';
import { ProtocolError } from '../shared/errors.js';
import { createNotifier, createServices } from './clients.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';

/**
 * The `publish` function, invoked directly (Lambda's Invoke API with IAM) by
 * other backends. A refused payload is answered as a result, `ok: false` with
 * the protocol's code, so a synchronous caller can branch on it and an
 * asynchronous one (EventBridge, `Event` invocations) does not retry what
 * would be refused again. Anything else is thrown: a function error, which
 * Lambda retries for asynchronous callers and reports to synchronous ones.
 */
export function createPublishHandler(services: Services, log: PowertoolsLog = new PowertoolsLog()) {
  const telemetry: Telemetry = { log, metrics: services.metrics };

  function refused(code: ErrorCode, message: string): PublishResult {
    telemetry.metrics?.errorAnswered(code);
    // A refusal is a defect in the calling service, rare enough to log at WARN.
    log.warn('publish refused', { code });
    return { ok: false, error: { code, message } };
  }

  return (payload: unknown, context?: HandlerContext): Promise<PublishResult> =>
    runInvocation(telemetry, { route: 'publish' }, context, async () => {
      const parsed = parsePublishRequest(payload);
      if (!parsed.ok) return refused(parsed.problem.code, parsed.problem.message);
      try {
        return await publish(services, parsed.request);
      } catch (error) {
        if (error instanceof ProtocolError) return refused(error.code, error.message);
        throw error;
      }
    });
}

export const handler = createPublishHandler(
  createServices(process.env, createNotifier(process.env)),
);
