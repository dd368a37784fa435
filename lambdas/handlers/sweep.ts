import { PowertoolsLog } from '../adapters/powertools-log.js';
import type { Services } from '../domain/ports.js';
import { type SweepReport, sweep } from '../domain/sweep.js';
import { invocationDeadline } from '../shared/invocation-deadline.js';
import { createNotifier, createServices } from './clients.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';

/** The scheduled sweeper (an EventBridge rule invokes it; the event carries nothing it needs). */
export function createSweepHandler(services: Services, log: PowertoolsLog = new PowertoolsLog()) {
  const telemetry: Telemetry = { log, metrics: services.metrics };
  return (_event: unknown, context?: HandlerContext): Promise<SweepReport> =>
    runInvocation(telemetry, { route: 'sweep' }, context, async () => {
      const report = await sweep(services, { deadline: invocationDeadline });
      // One line per scheduled run is cheap at INFO.
      if (report.failed > 0) log.warn('sweep finished', { ...report });
      else log.info('sweep finished', { ...report });
      return report;
    });
}

export const handler = createSweepHandler(createServices(process.env, createNotifier(process.env)));
