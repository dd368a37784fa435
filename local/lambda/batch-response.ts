import type { Invocation } from '../gateway/invoker.js';

/** How an event source mapping reads a function's answer to a batch. */
export type BatchOutcome =
  | { readonly kind: 'success' }
  /** Records before `index` are done; the batch is retried from it. */
  | { readonly kind: 'partial'; readonly index: number }
  | { readonly kind: 'failure'; readonly reason: string };

/**
 * The outcome of invoking a function with a batch of records whose sequence
 * numbers are `sequenceNumbers`, in order. A function error fails the batch.
 * With `ReportBatchItemFailures`, `{ batchItemFailures: [{ itemIdentifier }] }`
 * checkpoints before the lowest failed sequence number; an empty or null list
 * (or no answer at all) is a success; an identifier that is empty, null, under
 * another name or not in the batch fails the whole batch. Without it, any
 * answer is a success.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
 */
export function batchOutcome(
  invocation: Invocation,
  sequenceNumbers: readonly string[],
  reportBatchItemFailures: boolean,
): BatchOutcome {
  if (!invocation.ok) {
    return { kind: 'failure', reason: `${invocation.error.name}: ${invocation.error.message}` };
  }
  if (!reportBatchItemFailures) return { kind: 'success' };
  const answer = invocation.result;
  if (answer === undefined || answer === null) return { kind: 'success' };
  if (typeof answer !== 'object' || Array.isArray(answer)) {
    return invalid(`the answer is not an object: ${JSON.stringify(answer)}`);
  }
  const failures = (answer as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return invalid('batchItemFailures is not a list');
  if (failures.length === 0) return { kind: 'success' };
  let lowest = sequenceNumbers.length;
  for (const failure of failures) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof identifier !== 'string' || identifier === '') {
      return invalid(`an itemIdentifier is missing or empty: ${JSON.stringify(failure)}`);
    }
    const index = sequenceNumbers.indexOf(identifier);
    if (index === -1) return invalid(`itemIdentifier ${identifier} is no record of the batch`);
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', index: lowest };
}

function invalid(why: string): BatchOutcome {
  return { kind: 'failure', reason: `invalid partial batch response: ${why}` };
}
