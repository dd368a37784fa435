import type { DeliveryReport, Target } from './ports.js';

/**
 * One share of a large fan-out, as a fan-out worker receives it: the frame
 * already serialized, and the connections to post it to.
 */
export interface DeliveryWork {
  readonly payload: string;
  readonly targets: readonly Target[];
}

/** API Gateway's limit on a message posted to a connection: 128 KiB. */
const MAX_PAYLOAD_BYTES = 128 * 1024;
/** Far above any share the stack configures; a larger one is a defect, not a room. */
const MAX_TARGETS = 10_000;

/** A worker's input or output that is not what the other side sends. */
export class DeliveryWorkError extends Error {
  override readonly name = 'DeliveryWorkError';
}

/**
 * Checks a fan-out worker's event. Only the stack's own functions may invoke
 * the worker, but a malformed event must fail loudly before any post, not
 * post `undefined` to a connection.
 */
export function parseDeliveryWork(event: unknown): DeliveryWork {
  const work = event as Partial<Record<keyof DeliveryWork, unknown>> | null;
  if (typeof work !== 'object' || work === null) {
    throw new DeliveryWorkError('the event must be an object with payload and targets');
  }
  const { payload, targets } = work;
  if (typeof payload !== 'string' || payload.length === 0) {
    throw new DeliveryWorkError('payload must be a non-empty string');
  }
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
    throw new DeliveryWorkError(`payload exceeds ${MAX_PAYLOAD_BYTES} bytes`);
  }
  if (!Array.isArray(targets) || targets.length > MAX_TARGETS) {
    throw new DeliveryWorkError(`targets must be an array of at most ${MAX_TARGETS}`);
  }
  return { payload, targets: targets.map(parseTarget) };
}

/** Checks a worker's answer before its counts and gone connections are trusted. */
export function parseDeliveryReport(result: unknown): DeliveryReport {
  const report = result as Partial<Record<keyof DeliveryReport, unknown>> | null;
  if (
    typeof report !== 'object' ||
    report === null ||
    !isCount(report.delivered) ||
    !isCount(report.failed) ||
    !Array.isArray(report.gone)
  ) {
    throw new DeliveryWorkError('the worker answered something other than a delivery report');
  }
  return { delivered: report.delivered, failed: report.failed, gone: report.gone.map(parseTarget) };
}

/** Checks one connection to post to, as the stack's own functions send it. */
export function parseTarget(value: unknown): Target {
  const target = value as Partial<Record<keyof Target, unknown>> | null;
  if (
    typeof target !== 'object' ||
    target === null ||
    !isNonEmptyString(target.connectionId) ||
    !isNonEmptyString(target.userId) ||
    typeof target.name !== 'string'
  ) {
    throw new DeliveryWorkError('each target needs a connectionId, userId and name');
  }
  return { connectionId: target.connectionId, userId: target.userId, name: target.name };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
