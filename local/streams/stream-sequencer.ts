/**
 * Hands out stream positions in the order writes were answered and publishes
 * their outcomes in that order, so a record whose new image is still being
 * read holds back the records of later writes. A position whose write changed
 * nothing is skipped, as DynamoDB's sequence numbers are not contiguous either.
 */
export class StreamSequencer<T> {
  #next = 0n;
  #published = 0n;
  readonly #settled = new Map<bigint, T | undefined>();

  constructor(private readonly publish: (position: bigint, item: T) => void) {}

  /** The next position, and the function that settles it with its record (or none). */
  reserve(): { readonly position: bigint; readonly settle: (item: T | undefined) => void } {
    const position = this.#next;
    this.#next += 1n;
    let settled = false;
    return {
      position,
      settle: (item) => {
        if (settled) return;
        settled = true;
        this.#settled.set(position, item);
        this.#flush();
      },
    };
  }

  #flush(): void {
    while (this.#settled.has(this.#published)) {
      const item = this.#settled.get(this.#published);
      this.#settled.delete(this.#published);
      const position = this.#published;
      this.#published += 1n;
      if (item !== undefined) this.publish(position, item);
    }
  }
}
