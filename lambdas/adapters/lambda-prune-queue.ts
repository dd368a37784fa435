import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { GoneConnection, PruneQueue } from '../domain/ports.js';
import type { PruneWork } from '../domain/prune-work.js';
import { PRUNES_PER_INVOCATION } from '../domain/pruning.js';

/**
 * The `prune` function, invoked asynchronously (`Event`): Lambda queues the
 * invocation and answers at once, retries a failed one twice (the function's
 * EventInvokeConfig), and the caller waits for none of it. Gone connections go
 * over in lots of PRUNES_PER_INVOCATION, so each invocation's work is bounded.
 * Which ones to hand over, once across instances, the caller has settled with
 * a claim in each room (`RoomStore.claimGone`).
 */
export class LambdaPruneQueue implements PruneQueue {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async enqueue(gone: readonly GoneConnection[]): Promise<void> {
    const lots: GoneConnection[][] = [];
    for (let start = 0; start < gone.length; start += PRUNES_PER_INVOCATION) {
      lots.push(gone.slice(start, start + PRUNES_PER_INVOCATION));
    }
    await Promise.all(
      lots.map(async (lot) => {
        const work: PruneWork = { gone: lot };
        await this.client.send(
          new InvokeCommand({
            FunctionName: this.functionName,
            InvocationType: 'Event',
            Payload: JSON.stringify(work),
          }),
        );
      }),
    );
  }
}
