import { METRIC } from '../shared/metric-names.js';
import type { DeliveryReport, Services } from './ports.js';

/** Counts a batch of posts: delivered and failed after retries (gone ones are counted when handed over). */
export function recordDeliveries(services: Services, report: DeliveryReport): void {
  services.metrics?.count(METRIC.deliveries, report.delivered);
  services.metrics?.count(METRIC.deliveryFailures, report.failed);
}

/**
 * Counts a fan-out's posts and records its duration, from `startedAt`
 * (`performance.now()`, monotonic: the services' clock is wall time). A
 * fan-out that had no one to post to (a room of one, for `typing`) records no
 * duration, so the metric's percentiles describe real fan-outs.
 */
export function recordFanOut(services: Services, report: DeliveryReport, startedAt: number): void {
  recordDeliveries(services, report);
  if (report.delivered + report.failed + report.gone.length === 0) return;
  services.metrics?.fanOutDuration(performance.now() - startedAt);
}
