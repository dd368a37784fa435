import { PowertoolsLog } from '../adapters/powertools-log.js';
import { parseDeliveryWork } from '../domain/delivery-work.js';
import { deliver } from '../domain/fan-out.js';
import type { DeliveryReport, Notifier } from '../domain/ports.js';
import { createNotifier } from './clients.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';

/**
 * A fan-out worker: posts one share of a large room's fan-out and reports
 * what it found gone. It hands nothing over, so the function that split the
 * fan-out hands all of its gone connections to `prune` at once; and it
 * counts nothing, since that function counts the merged report.
 */
export function createFanOutHandler(notifier: Notifier, log: PowertoolsLog = new PowertoolsLog()) {
  const telemetry: Telemetry = { log };
  return (event: unknown, context?: HandlerContext): Promise<DeliveryReport> =>
    runInvocation(telemetry, { route: 'fanout' }, context, async () => {
      const work = parseDeliveryWork(event);
      return deliver({ notifier }, work.targets, work.payload);
    });
}

export const handler = createFanOutHandler(createNotifier(process.env));
