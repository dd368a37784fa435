type Listener<T> = (payload: T) => void;

/** A typed event emitter whose listeners cannot break the emitter's caller. */
export class Emitter<Events> {
  private readonly listeners: { [E in keyof Events]?: Set<Listener<Events[E]>> } = {};

  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.listeners[event];
    if (set === undefined) {
      set = new Set();
      this.listeners[event] = set;
    }
    // A wrapper, so that adding the same function twice makes two subscriptions.
    const entry: Listener<Events[E]> = (payload) => listener(payload);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /**
   * Calls every listener of `event`. A listener that throws is reported as an
   * uncaught error, after the others have run, so that the client's own state
   * never depends on what the application's code does.
   */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.listeners[event];
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
