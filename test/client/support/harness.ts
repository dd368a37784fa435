import { vi } from 'vitest';
import {
  type ClientEvents,
  RealtimeClient,
  type RealtimeClientOptions,
  RealtimeError,
} from '../../../client/index.js';
import { FakeServer } from './fake-server.js';

/** Runs due timers and pending microtasks (replies of the fake server). */
export const settle = () => vi.advanceTimersByTimeAsync(0);

/** A client on a {@link FakeServer}, with every event it emitted recorded. */
export function harness(
  options: Partial<RealtimeClientOptions> = {},
  token: () => string | Promise<string> = counterToken(),
) {
  const server = new FakeServer();
  const tokens = vi.fn(token);
  const client = new RealtimeClient({
    url: 'ws://gateway.test/dev',
    token: tokens,
    WebSocket: server.WebSocket,
    random: () => 0,
    ...options,
  });
  const events = {
    state: [] as ClientEvents['state'][],
    message: [] as ClientEvents['message'][],
    presence: [] as ClientEvents['presence'][],
    typing: [] as ClientEvents['typing'][],
    direct: [] as ClientEvents['direct'][],
    gap: [] as ClientEvents['gap'][],
    error: [] as ClientEvents['error'][],
  };
  for (const name of Object.keys(events) as Array<keyof typeof events>) {
    client.on(name, (payload) => (events[name] as unknown[]).push(payload));
  }
  /** `room:seq` of every message the application got, in order. */
  const delivered = () => events.message.map((m) => `${m.room}:${m.seq}`);
  return { server, client, tokens, events, delivered };
}

/** A token provider returning `token-1`, `token-2`, ... */
export function counterToken(): () => string {
  let n = 0;
  return () => `token-${++n}`;
}

/** The settled outcome of a promise, so tests assert on rejections without unhandled ones. */
export function outcome<T>(promise: Promise<T>) {
  const result: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(result, { value, settled: true }),
    (error: unknown) => Object.assign(result, { error, settled: true }),
  );
  return result;
}

/** The code of a RealtimeError; undefined for anything else. */
export function codeOf(error: unknown): string | undefined {
  return error instanceof RealtimeError ? error.code : undefined;
}
