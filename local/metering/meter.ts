/**
 * What the local stack's functions cost in calls and units, counted at the
 * boundaries AWS bills at: DynamoDB requests and their consumed capacity,
 * management API requests, and Lambda invocations with their duration.
 * The call-count test and `npm run bench` read it; nothing else pays for it.
 */

/** DynamoDB operations that read (billed in read units); every other one writes. */
const READ_OPERATIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/** Counts of one function's invocations. */
export interface InvocationCounts {
  count: number;
  /** Wall time of the invocations, as Lambda bills duration. */
  totalMs: number;
  /** CPU time of the invocations' own threads (init included on cold starts). */
  cpuMs: number;
}

/** The counts of a function not invoked. */
export const NO_INVOCATIONS: Readonly<InvocationCounts> = { count: 0, totalMs: 0, cpuMs: 0 };

/** A copy of the counts at one moment. */
export interface MeterSnapshot {
  /** DynamoDB requests by operation (`Query`, `UpdateItem`, ...). */
  readonly dynamoCalls: Readonly<Record<string, number>>;
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Management API requests by method (`POST` is PostToConnection, `GET` GetConnection). */
  readonly managementCalls: Readonly<Record<string, number>>;
  /** Lambda invocations by function construct id (`SendHandler`, ...). */
  readonly invocations: Readonly<Record<string, Readonly<InvocationCounts>>>;
}

export class Meter {
  private dynamoCalls: Record<string, number> = {};
  private readUnits = 0;
  private writeUnits = 0;
  private managementCalls: Record<string, number> = {};
  private invocations: Record<string, InvocationCounts> = {};

  /** One DynamoDB request and the capacity it consumed (0 when the engine reports none). */
  dynamo(operation: string, capacityUnits: number): void {
    this.dynamoCalls[operation] = (this.dynamoCalls[operation] ?? 0) + 1;
    if (READ_OPERATIONS.has(operation)) this.readUnits += capacityUnits;
    else this.writeUnits += capacityUnits;
  }

  management(method: string): void {
    this.managementCalls[method] = (this.managementCalls[method] ?? 0) + 1;
  }

  /** One invocation, its wall time and (when its thread reported it) its CPU time. */
  invocation(functionName: string, durationMs: number, cpuMs = 0): void {
    const counts = this.invocations[functionName] ?? { count: 0, totalMs: 0, cpuMs: 0 };
    this.invocations[functionName] = counts;
    counts.count++;
    counts.totalMs += durationMs;
    counts.cpuMs += cpuMs;
  }

  snapshot(): MeterSnapshot {
    return structuredClone({
      dynamoCalls: this.dynamoCalls,
      readUnits: this.readUnits,
      writeUnits: this.writeUnits,
      managementCalls: this.managementCalls,
      invocations: this.invocations,
    });
  }

  reset(): void {
    this.dynamoCalls = {};
    this.readUnits = 0;
    this.writeUnits = 0;
    this.managementCalls = {};
    this.invocations = {};
  }
}
