/**
 * Serializes work per item: a holder of some ids runs after every earlier
 * holder of any of them. All ids of a request are queued at once, in one
 * turn, so two requests that share ids can never wait for each other.
 */
export class KeyLocks {
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits for the ids' earlier holders; call the returned function to let the next one in. */
  async acquire(ids: readonly string[]): Promise<() => void> {
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const earlier = [...new Set(ids)].map((id) => {
      const tail = this.#tails.get(id);
      this.#tails.set(id, done);
      return tail;
    });
    void done.then(() => {
      for (const id of ids) if (this.#tails.get(id) === done) this.#tails.delete(id);
    });
    await Promise.all(earlier);
    return release;
  }
}
