import { PowertoolsLog } from '../adapters/powertools-log.js';
import type { Services } from '../domain/ports.js';
import { parsePruneWork } from '../domain/prune-work.js';
import { type PruneReport, pruneGone } from '../domain/pruning.js';
import { createServices } from './clients.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';

/**
 * The `prune` function, invoked asynchronously by the functions whose posts
 * found connections gone: removes them and their memberships. A departure
 * that failed fails the invocation, so Lambda retries it (removal is safe to
 * repeat); the sweeper is the backstop once the retries are spent.
 */
export function createPruneHandler(services: Services, log: PowertoolsLog = new PowertoolsLog()) {
  const telemetry: Telemetry = { log, metrics: services.metrics };
  return (event: unknown, context?: HandlerContext): Promise<PruneReport> =>
    runInvocation(telemetry, { route: 'prune' }, context, async () => {
      const work = parsePruneWork(event);
      const report = await pruneGone(services, work.gone);
      if (report.failed > 0) {
        throw new Error(`${report.failed} of ${work.gone.length} departures failed; retried`);
      }
      log.debug('pruned', { ...report });
      return report;
    });
}

export const handler = createPruneHandler(createServices(process.env));
