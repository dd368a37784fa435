import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealtimeError } from '../../client/index.js';
import { RequestTracker } from '../../client/request-tracker.js';

type Sent = Record<string, unknown> & { action: string; id: string };

function tracker(options: { maxQueued?: number; timeoutMs?: number } = {}) {
  const sent: Sent[] = [];
  const expired = vi.fn();
  const requests = new RequestTracker({
    timeoutMs: options.timeoutMs ?? 1_000,
    maxQueued: options.maxQueued ?? 100,
    random: () => 0,
    onTokenExpired: expired,
  });
  const attach = () => requests.attach((text) => sent.push(JSON.parse(text) as Sent));
  return { requests, sent, attach, expired };
}

/** The settled outcome of a promise, for asserting on rejections without unhandled ones. */
function outcome<T>(promise: Promise<T>) {
  const result: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(result, { value, settled: true }),
    (error: unknown) => Object.assign(result, { error, settled: true }),
  );
  return result;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof RealtimeError ? error.code : undefined;
}

describe('RequestTracker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('queues requests until the connection is ready, then sends them in order with fresh ids', async () => {
    const { requests, sent, attach } = tracker();
    const first = outcome(requests.request({ action: 'send', room: 'a', data: 1 }));
    const second = outcome(requests.request({ action: 'send', room: 'a', data: 2 }));
    attach();
    expect(sent).toEqual([]);
    requests.setReady();
    expect(sent.map((r) => r.data)).toEqual([1, 2]);
    expect(new Set(sent.map((r) => r.id)).size).toBe(2);
    for (const request of sent) {
      expect(request.id).toMatch(/^.{1,64}$/);
    }
    expect(requests.handle({ type: 'ack', id: sent[1]?.id ?? '', room: 'a', seq: 8 })).toBe(true);
    expect(requests.handle({ type: 'ack', id: sent[0]?.id ?? '', room: 'a', seq: 7 })).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(first.value).toMatchObject({ seq: 7 });
    expect(second.value).toMatchObject({ seq: 8 });
  });

  it('rejects requests beyond maxQueued with queue_full and never sends them', async () => {
    const { requests, sent, attach } = tracker({ maxQueued: 2 });
    const kept = [1, 2].map((n) =>
      outcome(requests.request({ action: 'send', room: 'a', data: n })),
    );
    const overflow = outcome(requests.request({ action: 'send', room: 'a', data: 3 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(codeOf(overflow.error)).toBe('queue_full');
    expect(kept.every((k) => !k.settled)).toBe(true);
    attach();
    requests.setReady();
    expect(sent.map((r) => r.data)).toEqual([1, 2]);
  });

  it('rejects with timeout when no reply comes in time, and ignores the late reply', async () => {
    const { requests, sent, attach } = tracker({ timeoutMs: 1_000 });
    attach();
    requests.setReady();
    const ping = outcome(requests.request({ action: 'ping' }));
    await vi.advanceTimersByTimeAsync(999);
    expect(ping.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(codeOf(ping.error)).toBe('timeout');
    expect(requests.handle({ type: 'pong', id: sent[0]?.id ?? '', ts: 1 })).toBe(false);
  });

  it("rejects with the protocol error's code and message", async () => {
    const { requests, sent, attach } = tracker();
    attach();
    requests.setReady();
    const send = outcome(requests.request({ action: 'send', room: 'a', data: 1 }));
    requests.handle({
      type: 'error',
      id: sent[0]?.id ?? '',
      code: 'not_member',
      message: 'join the room first',
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(send.error).toBeInstanceOf(RealtimeError);
    expect(send.error).toMatchObject({
      name: 'RealtimeError',
      code: 'not_member',
      message: 'join the room first',
      room: 'a',
    });
  });

  it('retries a request refused as rate_limited, with a fresh id, since it had no effect', async () => {
    const { requests, sent, attach } = tracker();
    attach();
    requests.setReady();
    const send = outcome(requests.request({ action: 'send', room: 'a', data: 1 }));
    requests.handle({ type: 'error', id: sent[0]?.id ?? '', code: 'rate_limited', message: '' });
    await vi.advanceTimersByTimeAsync(199);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.id).not.toBe(sent[0]?.id);
    requests.handle({ type: 'ack', id: sent[1]?.id ?? '', room: 'a', seq: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(send.value).toMatchObject({ seq: 1 });
  });

  it('asks for a renewal and retries a request refused as token_expired', async () => {
    const { requests, sent, attach, expired } = tracker();
    attach();
    requests.setReady();
    const history = outcome(requests.request({ action: 'history', room: 'a', after: 0, limit: 5 }));
    requests.handle({ type: 'error', id: sent[0]?.id ?? '', code: 'token_expired', message: '' });
    expect(expired).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent.map((r) => r.action)).toEqual(['history', 'history']);
    expect(history.settled).toBe(false);
  });

  it('on a disconnect, queues idempotent requests again and rejects the others with timeout', async () => {
    const { requests, sent, attach } = tracker();
    attach();
    requests.setReady();
    const send = outcome(requests.request({ action: 'send', room: 'a', data: 1 }));
    const history = outcome(
      requests.request(
        { action: 'history', room: 'a', after: 0, limit: 5 },
        { onDisconnect: 'resend' },
      ),
    );
    const rejoin = outcome(requests.request({ action: 'join', room: 'a' }, { internal: true }));
    requests.detach();
    await vi.advanceTimersByTimeAsync(0);
    expect(codeOf(send.error)).toBe('timeout');
    expect(codeOf(rejoin.error)).toBe('timeout');
    expect(history.settled).toBe(false);
    expect(requests.queued).toBe(1);
    attach();
    requests.setReady();
    expect(sent.map((r) => r.action)).toEqual(['send', 'history', 'join', 'history']);
  });

  it('rejects data that is not JSON or a frame over 32 KiB without sending it', async () => {
    const { requests, sent, attach } = tracker();
    attach();
    requests.setReady();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const notJson = outcome(requests.request({ action: 'send', room: 'a', data: circular }));
    const tooLarge = outcome(
      requests.request({ action: 'send', room: 'a', data: 'x'.repeat(33_000) }),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(codeOf(notJson.error)).toBe('bad_request');
    expect(codeOf(tooLarge.error)).toBe('too_large');
    expect(sent).toEqual([]);
  });

  it('rejects every queued and unanswered request with the given error', async () => {
    const { requests, attach } = tracker();
    const queued = outcome(requests.request({ action: 'ping' }));
    attach();
    const internal = outcome(requests.request({ action: 'ping' }, { internal: true }));
    requests.rejectAll(new RealtimeError('closed', 'closed'));
    await vi.advanceTimersByTimeAsync(0);
    expect(codeOf(queued.error)).toBe('closed');
    expect(codeOf(internal.error)).toBe('closed');
    expect(requests.queued + requests.pending).toBe(0);
  });
});
