import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type MessageFrame,
  RealtimeClient,
  type RealtimeError,
  type StateChange,
} from '../../client/index.js';
import type { LocalStack } from '../../local/local-stack.js';
import { fresh } from '../integration/support/local-stack-fixture.js';
import { plainLocalStack } from '../support/plain-local-stack.js';

const MESSAGES = 20;
/** Below the default rate limit of 10 requests a second per connection. */
const SEND_INTERVAL_MS = 110;

let stack: LocalStack | undefined;
const running = () => {
  if (stack === undefined) throw new Error('the local stack has not started');
  return stack;
};
const opened = new Set<RealtimeClient>();

let release = async () => {};

beforeAll(async () => {
  const plain = await plainLocalStack('dynalite', () => {});
  stack = plain.stack;
  release = plain.release;
});

afterEach(() => {
  for (const client of opened) client.close();
  opened.clear();
});

afterAll(async () => {
  await release();
});

/** A closed gate holds the token provider, and so any reconnect, until it opens. */
function gate() {
  let release: (() => void) | undefined;
  let open: Promise<void> = Promise.resolve();
  return {
    wait: () => open,
    close() {
      open = new Promise((resolve) => {
        release = resolve;
      });
    },
    open() {
      release?.();
    },
  };
}

async function devToken(sub: string): Promise<string> {
  const response = await fetch(`${running().httpUrl}/dev/token?sub=${encodeURIComponent(sub)}`);
  if (!response.ok) throw new Error(`/dev/token answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

/** An SDK client on Node's global WebSocket, recording what its application receives. */
function sdkClient(sub: string, held = gate()) {
  const tokenRequests: number[] = [];
  const client = new RealtimeClient({
    url: running().url,
    token: async () => {
      tokenRequests.push(Date.now());
      await held.wait();
      return devToken(sub);
    },
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    requestTimeoutMs: 5_000,
  });
  opened.add(client);
  const received: MessageFrame[] = [];
  const states: StateChange[] = [];
  const gaps: unknown[] = [];
  const errors: RealtimeError[] = [];
  client.on('message', (message) => received.push(message));
  client.on('state', (change) => states.push(change));
  client.on('gap', (gap) => gaps.push(gap));
  client.on('error', (error) => errors.push(error));
  return { sub, client, gate: held, tokenRequests, received, states, gaps, errors };
}

/** Polls `condition` every 20 ms until it holds; fails after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The gateway's id of the user's one open connection. */
function connectionIdOf(sub: string): string {
  const ids = [...running().gateway.connections]
    .filter(([, c]) => c.state === 'open' && c.authorizer?.principalId === sub)
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`${sub} has ${ids.length} open connections`);
  return ids[0] as string;
}

/**
 * Two clients in one room; `cut` cuts the receiver off after the fifth of 20
 * messages, and its reconnect is held back until the fifteenth, so that ten
 * are sent while it is away.
 */
async function sendWhileCutOff(label: string, cut: (connectionId: string) => Promise<void>) {
  const room = fresh(label);
  const receiver = sdkClient(fresh('receiver'));
  const sender = sdkClient(fresh('sender'));
  for (const { client } of [receiver, sender]) client.connect();
  await until(() => receiver.client.state === 'open' && sender.client.state === 'open', 'open');
  await receiver.client.join(room);
  await sender.client.join(room);
  const firstConnection = connectionIdOf(receiver.sub);
  const tokensBefore = receiver.tokenRequests.length;

  for (let i = 0; i < MESSAGES; i += 1) {
    if (i === 5) {
      receiver.gate.close();
      await cut(firstConnection);
      await until(() => receiver.client.state === 'reconnecting', 'the receiver to notice');
    }
    if (i === 15) receiver.gate.open();
    await sender.client.send(room, { i });
    await new Promise((resolve) => setTimeout(resolve, SEND_INTERVAL_MS));
  }
  await until(() => receiver.received.length >= MESSAGES, 'all messages at the receiver');
  // A message delivered twice would be posted before the stack is idle, so
  // reach the receiver before the pong of a ping sent after that.
  await running().gateway.idle();
  await running().streamsIdle();
  await receiver.client.ping();
  return { room, receiver, sender, firstConnection, tokensBefore };
}

function expectAllInOrderOnce(received: MessageFrame[], room: string) {
  expect(received.map((m) => (m.data as { i: number }).i)).toEqual(
    Array.from({ length: MESSAGES }, (_, i) => i),
  );
  expect(received.every((m) => m.room === room)).toBe(true);
  const seqs = received.map((m) => m.seq);
  expect(seqs).toEqual(Array.from({ length: MESSAGES }, (_, i) => (seqs[0] ?? 0) + i));
}

describe('the client SDK against the local stack', () => {
  it('recovers all 20 messages, once each and in order, after a server-side DELETE of its connection', async () => {
    const { room, receiver, sender, firstConnection, tokensBefore } = await sendWhileCutOff(
      'sdk-delete',
      async (connectionId) => {
        const response = await fetch(
          `${running().callbackUrl}/@connections/${encodeURIComponent(connectionId)}`,
          { method: 'DELETE' },
        );
        expect(response.status).toBe(204);
      },
    );
    expectAllInOrderOnce(receiver.received, room);
    expectAllInOrderOnce(sender.received, room);
    expect(receiver.states).toContainEqual(
      expect.objectContaining({ state: 'reconnecting', reason: 'connection closed (1000)' }),
    );
    expect(receiver.client.state).toBe('open');
    expect(connectionIdOf(receiver.sub)).not.toBe(firstConnection);
    expect(receiver.tokenRequests.length).toBe(tokensBefore + 1);
    expect(receiver.gaps).toEqual([]);
    expect(receiver.errors).toEqual([]);
    expect(
      receiver.client
        .members(room)
        .map((m) => m.userId)
        .sort(),
    ).toEqual([receiver.sub, sender.sub].sort());
  });

  it('recovers all 20 messages, once each and in order, after its socket dies without a close frame', async () => {
    const { room, receiver, firstConnection } = await sendWhileCutOff(
      'sdk-killed',
      async (connectionId) => {
        const socket = running().gateway.connections.get(connectionId)?.socket;
        if (socket === undefined) throw new Error(`no socket for ${connectionId}`);
        socket.terminate();
      },
    );
    expectAllInOrderOnce(receiver.received, room);
    expect(receiver.states).toContainEqual(
      expect.objectContaining({ state: 'reconnecting', reason: 'connection closed (1006)' }),
    );
    expect(connectionIdOf(receiver.sub)).not.toBe(firstConnection);
    expect(receiver.gaps).toEqual([]);
    expect(receiver.errors).toEqual([]);
  });
});
