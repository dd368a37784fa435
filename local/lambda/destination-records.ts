import { randomUUID } from 'node:crypto';

/**
 * The invocation records Lambda sends to an on-failure destination. The local
 * stack has no queue or topic to send them to; it writes them to the log, so
 * what AWS would keep for later is still visible.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */

/** Why records or an event were discarded, as the record's `condition` says. */
export type DiscardCondition =
  | 'RetryAttemptsExhausted'
  | 'RecordAgeExceeded'
  | 'RetriesExhausted'
  | 'EventAgeExceeded';

/** The function's last failure, if it ran at all. */
export interface LastError {
  readonly name: string;
  readonly message: string;
}

/** What an event source mapping sends for a discarded batch of stream records. */
export function streamFailureRecord(details: {
  readonly functionArn: string;
  readonly streamArn: string;
  readonly condition: DiscardCondition;
  readonly invokeCount: number;
  readonly lastError?: LastError;
  readonly records: readonly { readonly sequenceNumber: string; readonly capturedAtMs: number }[];
}): Record<string, unknown> {
  const first = details.records[0];
  const last = details.records.at(-1);
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: details.functionArn,
      condition: details.condition,
      approximateInvokeCount: details.invokeCount,
    },
    responseContext: responseContext(details.lastError),
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: LOCAL_SHARD_ID,
      startSequenceNumber: first?.sequenceNumber,
      endSequenceNumber: last?.sequenceNumber,
      approximateArrivalOfFirstRecord: isoSeconds(first?.capturedAtMs),
      approximateArrivalOfLastRecord: isoSeconds(last?.capturedAtMs),
      batchSize: details.records.length,
      streamArn: details.streamArn,
    },
  };
}

/** What Lambda sends for a discarded asynchronous invocation. */
export function asyncFailureRecord(details: {
  readonly functionArn: string;
  readonly condition: DiscardCondition;
  readonly invokeCount: number;
  readonly event: unknown;
  readonly lastError?: LastError;
}): Record<string, unknown> {
  return {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `${details.functionArn}:$LATEST`,
      condition: details.condition,
      approximateInvokeCount: details.invokeCount,
    },
    requestPayload: details.event,
    responseContext: responseContext(details.lastError),
    ...(details.lastError === undefined
      ? {}
      : {
          responsePayload: {
            errorType: details.lastError.name,
            errorMessage: details.lastError.message,
          },
        }),
  };
}

/** The one shard of every local stream. */
const LOCAL_SHARD_ID = 'shardId-00000000000000000000-00000000';

function responseContext(lastError: LastError | undefined) {
  return {
    statusCode: 200,
    executedVersion: '$LATEST',
    ...(lastError === undefined ? {} : { functionError: 'Unhandled' }),
  };
}

function isoSeconds(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
