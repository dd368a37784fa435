import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OrderedDelivery } from '../../client/ordered-delivery.js';
import type { MessageFrame } from '../../protocol/messages.js';
import { bob } from './support/fake-server.js';

const message = (seq: number): MessageFrame => ({
  type: 'message',
  room: 'lobby',
  seq,
  from: bob,
  data: `m${seq}`,
  ts: seq,
});

function sequencer(options: { gapTimeoutMs?: number; fillDelayMs?: number } = {}) {
  const delivered: number[] = [];
  const gaps: Array<[number, number]> = [];
  const fills: Array<[number, number]> = [];
  const delivery = new OrderedDelivery({
    gapTimeoutMs: options.gapTimeoutMs ?? 5_000,
    fillDelayMs: options.fillDelayMs ?? 250,
    deliver: (m) => delivered.push(m.seq),
    gap: (from, to) => gaps.push([from, to]),
    fill: (after, to) => fills.push([after, to]),
  });
  return { delivery, delivered, gaps, fills };
}

describe('OrderedDelivery', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands 1, 3, 2, 2, 4 to the application as 1, 2, 3, 4, each once', () => {
    const { delivery, delivered, gaps } = sequencer();
    delivery.start(0);
    for (const seq of [1, 3, 2, 2, 4]) delivery.push(message(seq));
    expect(delivered).toEqual([1, 2, 3, 4]);
    vi.advanceTimersByTime(60_000);
    expect(gaps).toEqual([]);
  });

  it('drops seqs up to the starting seq, including ones that arrived before it was known', () => {
    const { delivery, delivered } = sequencer();
    delivery.push(message(7));
    delivery.push(message(9));
    delivery.push(message(8));
    expect(delivered).toEqual([]);
    delivery.start(7);
    expect(delivered).toEqual([8, 9]);
    delivery.push(message(5));
    expect(delivered).toEqual([8, 9]);
  });

  it('asks for a gap to be filled after the fill delay, and delivers in order once filled', () => {
    const { delivery, delivered, fills, gaps } = sequencer();
    delivery.start(1);
    delivery.push(message(2));
    delivery.push(message(5));
    vi.advanceTimersByTime(249);
    expect(fills).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fills).toEqual([[2, 4]]);
    delivery.push(message(4));
    delivery.push(message(3));
    expect(delivered).toEqual([2, 3, 4, 5]);
    vi.advanceTimersByTime(60_000);
    expect(gaps).toEqual([]);
  });

  it('gives up on a gap only after gapTimeoutMs, reports it, then delivers what follows', () => {
    const { delivery, delivered, gaps } = sequencer();
    delivery.start(0);
    delivery.push(message(1));
    delivery.push(message(4));
    delivery.push(message(5));
    vi.advanceTimersByTime(4_999);
    expect(gaps).toEqual([]);
    expect(delivered).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(gaps).toEqual([[2, 3]]);
    expect(delivered).toEqual([1, 4, 5]);
    delivery.push(message(3));
    expect(delivered).toEqual([1, 4, 5]);
  });

  it('gives a later gap its own full timeout', () => {
    const { delivery, delivered, gaps } = sequencer();
    delivery.start(0);
    delivery.push(message(2));
    delivery.push(message(4));
    vi.advanceTimersByTime(5_000);
    expect(gaps).toEqual([[1, 1]]);
    expect(delivered).toEqual([2]);
    vi.advanceTimersByTime(4_999);
    expect(gaps).toEqual([[1, 1]]);
    vi.advanceTimersByTime(1);
    expect(gaps).toEqual([
      [1, 1],
      [3, 3],
    ]);
    expect(delivered).toEqual([2, 4]);
  });

  it('neither fills nor gives up while held, and restarts the full timeout on release', () => {
    const { delivery, fills, gaps } = sequencer();
    delivery.start(0);
    delivery.hold();
    delivery.push(message(3));
    vi.advanceTimersByTime(60_000);
    expect(fills).toEqual([]);
    expect(gaps).toEqual([]);
    delivery.release();
    vi.advanceTimersByTime(4_999);
    expect(gaps).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(gaps).toEqual([[1, 2]]);
  });

  it('delivers nothing once disposed, even from inside a delivery', () => {
    const delivered: number[] = [];
    const delivery: OrderedDelivery = new OrderedDelivery({
      gapTimeoutMs: 5_000,
      fillDelayMs: 250,
      deliver: (m) => {
        delivered.push(m.seq);
        delivery.dispose();
      },
      gap: () => {},
      fill: () => {},
    });
    delivery.push(message(2));
    delivery.push(message(3));
    delivery.start(1);
    expect(delivered).toEqual([2]);
  });
});
