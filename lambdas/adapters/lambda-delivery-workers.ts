import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type DeliveryWork, parseDeliveryReport } from '../domain/delivery-work.js';
import type { DeliveryReport, DeliveryWorkers, Target } from '../domain/ports.js';

/**
 * The fan-out workers, invoked synchronously (`RequestResponse`) so the
 * caller gets their gone connections back to hand over, and answers its client
 * only once every share is posted, as a fan-out without workers does.
 */
export class LambdaDeliveryWorkers implements DeliveryWorkers {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
    readonly chunkSize: number,
  ) {}

  async deliver(targets: readonly Target[], payload: string): Promise<DeliveryReport> {
    const work: DeliveryWork = { payload, targets };
    // Rejects (so the caller posts the share itself) when Lambda refused or
    // throttled the invocation: then no post was made.
    const output = await this.client.send(
      new InvokeCommand({ FunctionName: this.functionName, Payload: JSON.stringify(work) }),
    );
    if (output.FunctionError !== undefined) {
      // The worker ran and failed part way: some posts may have been made, so
      // posting the share again could send duplicates. The members recover
      // the message through `history`.
      return { delivered: 0, failed: targets.length, gone: [] };
    }
    return parseDeliveryReport(JSON.parse(new TextDecoder().decode(output.Payload)));
  }
}
