import type { InvocationKeys, LogContext, PowertoolsLog } from '../adapters/powertools-log.js';
import type { MetricsRecorder } from '../domain/ports.js';
import { type InvocationContext, startInvocation } from '../shared/invocation-deadline.js';
import { describeError } from './error-text.js';

/** The Lambda context as handlers read it; tests may pass none. */
export type HandlerContext = InvocationContext & LogContext;

/** Where a handler's lines and numbers go. */
export interface Telemetry {
  readonly log: PowertoolsLog;
  /** @default - nothing is counted */
  readonly metrics?: MetricsRecorder | undefined;
}

/**
 * Runs one invocation: starts its deadline, puts its keys on every log line
 * until it ends, and publishes its metrics once at the end, however it ends.
 * A thrown error is logged with the keys (the runtime's own line has none of
 * them) and thrown on, so Lambda still counts the invocation as failed.
 */
export async function runInvocation<T>(
  telemetry: Telemetry,
  keys: InvocationKeys,
  context: HandlerContext | undefined,
  body: () => Promise<T>,
): Promise<T> {
  startInvocation(context);
  telemetry.log.begin(keys, context);
  try {
    return await body();
  } catch (error) {
    telemetry.log.error('invocation failed', { error: describeError(error) });
    throw error;
  } finally {
    publishMetrics(telemetry);
    telemetry.log.end();
  }
}

// Metrics are a side channel: failing to write them must not fail the reply.
function publishMetrics(telemetry: Telemetry): void {
  try {
    telemetry.metrics?.flush();
  } catch (error) {
    telemetry.log.warn('metrics not published', { error: describeError(error) });
  }
}
