import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { GoneConnection, PruneQueue } from '../domain/ports.js';
import type { PruneWork } from '../domain/prune-work.js';
import { PRUNES_PER_INVOCATION } from '../domain/pruning.js';
import { setBounded } from '../shared/bounded-map.js';

/** How long an instance remembers a connection it handed over, not to hand it over again. */
const REMEMBER_MS = 60_000;
/** Bound on the connections remembered. */
const REMEMBERED_CAPACITY = 10_000;

/**
 * The `prune` function, invoked asynchronously (`Event`): Lambda queues the
 * invocation and answers at once, retries a failed one twice (the function's
 * EventInvokeConfig), and the caller waits for none of it. Gone connections go
 * over in lots of PRUNES_PER_INVOCATION, so each invocation's work is bounded.
 *
 * Every fan-out to a room meets its gone connections until they are removed;
 * an instance hands each over once a minute at most, so a busy room's sends do
 * not queue the same removals again and again. (Other instances may: removal
 * is idempotent, and announcements come from the stream, once.)
 */
export class LambdaPruneQueue implements PruneQueue {
  private readonly handedOver = new Map<string, number>();

  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async enqueue(gone: readonly GoneConnection[]): Promise<void> {
    const now = this.clock();
    const fresh = gone.filter((connection) => {
      const at = this.handedOver.get(keyOf(connection));
      return at === undefined || now - at >= REMEMBER_MS;
    });
    const lots: GoneConnection[][] = [];
    for (let start = 0; start < fresh.length; start += PRUNES_PER_INVOCATION) {
      lots.push(fresh.slice(start, start + PRUNES_PER_INVOCATION));
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
        for (const connection of lot) {
          setBounded(this.handedOver, keyOf(connection), now, REMEMBERED_CAPACITY);
        }
      }),
    );
  }
}

function keyOf(connection: GoneConnection): string {
  return `${connection.connectionId}\n${connection.room ?? ''}`;
}
