import type { MessageFrame } from '../protocol/messages.js';

type Timer = ReturnType<typeof setTimeout>;

/** What an {@link OrderedDelivery} calls. */
export interface OrderedDeliveryOptions {
  /** How long a gap may stay open before its seqs are given up on. */
  readonly gapTimeoutMs: number;
  /** How long a gap may stay open before `fill` is asked to fetch it from history. */
  readonly fillDelayMs: number;
  /** Hands a message to the application: once per seq, in seq order. */
  readonly deliver: (message: MessageFrame) => void;
  /** Reports seqs `from` to `to` (inclusive) as given up on. */
  readonly gap: (from: number, to: number) => void;
  /** Asks for the messages after `after`, up to at least `to`, to be pushed. */
  readonly fill: (after: number, to: number) => void;
}

/**
 * One room's sequencer: takes `message` frames in whatever order and however
 * often they arrive (live, from history, again after a reconnect) and hands
 * each seq to the application exactly once, in order. Out-of-order messages
 * wait in a buffer; a gap is first filled from history, and given up on only
 * after `gapTimeoutMs` (PROTOCOL.md section 5: a gap is permanent only where a
 * send failed after its number was taken).
 */
export class OrderedDelivery {
  private lastSeq: number | undefined;
  private readonly buffer = new Map<number, MessageFrame>();
  private held = false;
  private disposed = false;
  /** The first missing seq the timers below are running for. */
  private timedFrom: number | undefined;
  private gapTimer: Timer | undefined;
  private fillTimer: Timer | undefined;

  constructor(private readonly options: OrderedDeliveryOptions) {}

  /** The last seq handed to the application (or skipped); `undefined` before {@link start}. */
  get last(): number | undefined {
    return this.lastSeq;
  }

  /** True once the starting seq is known. */
  get started(): boolean {
    return this.lastSeq !== undefined;
  }

  /** The seqs missing before the first buffered message, if any. */
  get gap(): { readonly from: number; readonly to: number } | undefined {
    if (this.lastSeq === undefined || this.buffer.size === 0) return undefined;
    return { from: this.lastSeq + 1, to: Math.min(...this.buffer.keys()) - 1 };
  }

  /**
   * Sets the starting point: seqs up to `seq` are never delivered. Later calls
   * are ignored unless `force` (the room's sequence restarted on the server).
   */
  start(seq: number, force = false): void {
    if (this.lastSeq !== undefined && !force) return;
    this.lastSeq = seq;
    this.drain();
  }

  /** Takes a message: delivered now if it is the next seq, buffered if early, dropped if seen. */
  push(message: MessageFrame): void {
    if (this.disposed) return;
    if (this.lastSeq !== undefined && message.seq <= this.lastSeq) return;
    if (this.buffer.has(message.seq)) return;
    this.buffer.set(message.seq, message);
    this.drain();
  }

  /** Suspends filling and giving up (while offline or catching up from history). */
  hold(): void {
    this.held = true;
    this.stopTimers();
  }

  /** Resumes filling and giving up; a remaining gap gets a full `gapTimeoutMs` again. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.watch();
  }

  /** Stops for good: nothing more is delivered. */
  dispose(): void {
    this.disposed = true;
    this.stopTimers();
    this.buffer.clear();
  }

  private drain(): void {
    let last = this.lastSeq;
    if (last === undefined) return;
    for (const seq of this.buffer.keys()) if (seq <= last) this.buffer.delete(seq);
    for (let next = this.buffer.get(last + 1); next !== undefined; ) {
      this.buffer.delete(next.seq);
      this.lastSeq = last = next.seq;
      this.options.deliver(next);
      // The application may have left the room from inside `deliver`.
      if (this.disposed) return;
      next = this.buffer.get(last + 1);
    }
    this.watch();
  }

  private watch(): void {
    const gap = this.gap;
    if (gap === undefined) {
      this.stopTimers();
      return;
    }
    if (this.held || this.disposed || this.timedFrom === gap.from) return;
    this.stopTimers();
    this.timedFrom = gap.from;
    this.gapTimer = setTimeout(() => this.giveUp(), this.options.gapTimeoutMs);
    this.fillTimer = setTimeout(() => {
      this.fillTimer = undefined;
      const open = this.gap;
      if (open !== undefined) this.options.fill(open.from - 1, open.to);
    }, this.options.fillDelayMs);
  }

  private giveUp(): void {
    this.gapTimer = undefined;
    this.timedFrom = undefined;
    const gap = this.gap;
    if (gap === undefined) return;
    this.lastSeq = gap.to;
    this.options.gap(gap.from, gap.to);
    if (!this.disposed) this.drain();
  }

  private stopTimers(): void {
    clearTimeout(this.gapTimer);
    clearTimeout(this.fillTimer);
    this.gapTimer = undefined;
    this.fillTimer = undefined;
    this.timedFrom = undefined;
  }
}
