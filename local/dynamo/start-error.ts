/** Why an engine did not start. */
export type DynamoStartCode = 'listen_failed' | 'process_exited' | 'not_ready' | 'jar_missing';

/** A local DynamoDB engine did not come up; the message carries the process's last output if any. */
export class DynamoStartError extends Error {
  override readonly name = 'DynamoStartError';

  constructor(
    readonly code: DynamoStartCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
