import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { membershipChanges } from '../adapters/membership-stream.js';
import { PowertoolsLog } from '../adapters/powertools-log.js';
import type { Services } from '../domain/ports.js';
import { announcePresence } from '../domain/presence-announcer.js';
import { setBounded } from '../shared/bounded-map.js';
import { createNotifier, createServices } from './clients.js';
import { type HandlerContext, runInvocation, type Telemetry } from './invocation.js';

/** Positions an instance remembers as announced. */
const ANNOUNCED_CAPACITY = 10_000;

/**
 * The `presence` function, fed by the table's stream through an event source
 * mapping that passes only membership records and batches a second of them:
 * each batch's arrivals and departures are announced per room, coalesced.
 *
 * A room whose members could not be read is reported as a batch item failure
 * (`ReportBatchItemFailures`): Lambda resumes the batch from that room's
 * first change. The rooms announced before are then in the batch again; this
 * instance skips their positions, and another instance would repeat them,
 * which the protocol allows (applying a frame twice changes nothing).
 */
export function createPresenceHandler(
  services: Services,
  log: PowertoolsLog = new PowertoolsLog(),
) {
  const telemetry: Telemetry = { log, metrics: services.metrics };
  const announced = new Map<string, true>();
  return (event: DynamoDBStreamEvent, context?: HandlerContext): Promise<DynamoDBBatchResponse> =>
    runInvocation(telemetry, { route: 'presence' }, context, async () => {
      const changes = membershipChanges(event).filter((change) => !announced.has(change.position));
      const report = await announcePresence(services, changes);
      for (const position of report.announcedPositions) {
        setBounded(announced, position, true, ANNOUNCED_CAPACITY);
      }
      if (report.failedFrom.length > 0) {
        log.warn('presence not announced in some rooms; retried', {
          rooms: report.failedFrom.length,
        });
      }
      return { batchItemFailures: report.failedFrom.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

export const handler = createPresenceHandler(
  createServices(process.env, createNotifier(process.env)),
);
