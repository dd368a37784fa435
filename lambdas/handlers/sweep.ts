import type { Services } from '../domain/ports.js';
import { type SweepReport, sweep } from '../domain/sweep.js';
import {
  type InvocationContext,
  invocationDeadline,
  startInvocation,
} from '../shared/invocation-deadline.js';
import { createNotifier, createServices } from './clients.js';
import { log } from './websocket-event.js';

/** The scheduled sweeper (an EventBridge rule invokes it; the event carries nothing it needs). */
export function createSweepHandler(services: Services) {
  return async (_event: unknown, context?: InvocationContext): Promise<SweepReport> => {
    startInvocation(context);
    const report = await sweep(services, { deadline: invocationDeadline });
    log(report.failed > 0 ? 'warn' : 'info', 'sweep finished', { ...report });
    return report;
  };
}

export const handler = createSweepHandler(createServices(process.env, createNotifier(process.env)));
