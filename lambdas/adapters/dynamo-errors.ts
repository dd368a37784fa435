import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * True when a conditional write failed its condition. Checked by class and by
 * name, because errors can cross module copies (and engines) where the class differs.
 */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}
