import { availableParallelism } from 'node:os';

/**
 * How many function instances may initialise at once across the pools that
 * share it. In Lambda every cold start has its own CPU; here they share this
 * machine's few cores, and a burst of invocations that each start an instance
 * (a reload, a room's fan-out) would init them all at once: each init then
 * takes many times longer, more invocations arrive meanwhile and start more
 * instances, and the stack stalls. With slots, an invocation that finds no
 * instance free waits for an init slot; the instances that do init finish at
 * full speed and take the queue.
 */
export class InitSlots {
  readonly #size: number;
  #used = 0;
  readonly #waiting = new Set<() => void>();

  constructor(size: number = availableParallelism()) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`init slots must be a positive integer, got ${size}`);
    }
    this.#size = size;
  }

  /** Takes a slot if one is free; `release` must be called once the init ends. */
  tryTake(): boolean {
    if (this.#used >= this.#size) return false;
    this.#used += 1;
    return true;
  }

  /** Frees a slot and tells every waiter, which tries again. */
  release(): void {
    this.#used = Math.max(0, this.#used - 1);
    for (const waiter of [...this.#waiting]) waiter();
  }

  /** Calls `retry` whenever a slot frees, until the returned function is called. */
  onRelease(retry: () => void): () => void {
    this.#waiting.add(retry);
    return () => this.#waiting.delete(retry);
  }

  /** Slots taken now. */
  get used(): number {
    return this.#used;
  }
}

/** The slots every pool of this process shares unless given its own. */
export const MACHINE_INIT_SLOTS = new InitSlots();
