import { afterAll, afterEach, beforeAll, describe, expect, inject } from 'vitest';
import WebSocket from 'ws';
import { type EngineName, javaVersion, MIN_JAVA_VERSION } from '../../../local/dynamo/engine.js';
import type { FaultOptions } from '../../../local/faults/fault-injector.js';
import type { GatewayLimits } from '../../../local/gateway/websocket-gateway.js';
import type { LocalStack } from '../../../local/local-stack.js';
import type { Meter } from '../../../local/metering/meter.js';
import { ownLocalStack, plainLocalStack } from '../../support/plain-local-stack.js';
import {
  eventually,
  type Frame,
  HandshakeRefusedError,
  type OpenOptions,
  TestClient,
  WAIT_MS,
  within,
} from './ws-client.js';

/** What a test asks of `/dev/token`. */
export interface DevTokenRequest {
  readonly sub: string;
  readonly name?: string;
  /** Comma-separated room patterns; `''` allows no room. */
  readonly rooms?: string;
  readonly ttl?: number;
}

/** A local stack shared by the tests of one `describe`, with helpers to reach it. */
export interface StackFixture {
  /** The running stack (available from the first test on). */
  readonly stack: LocalStack;
  /** Lines the stack and its functions logged. */
  readonly logs: readonly string[];
  /** A token from the stack's `/dev/token`. */
  token(request: DevTokenRequest): Promise<string>;
  /** Opens a client with a dev token for `user` (a sub, or the whole token request). */
  connect(user: string | DevTokenRequest, options?: OpenOptions): Promise<TestClient>;
  /** Opens a client with a given token (or none). */
  connectWith(token: string | undefined, options?: OpenOptions): Promise<TestClient>;
  /** Opens a client and joins `room`, taking the `joined` reply. */
  joined(user: string | DevTokenRequest, room: string): Promise<TestClient>;
  /** The HTTP status the upgrade is refused with; fails when it is accepted. */
  refusal(token: string | undefined, options?: OpenOptions): Promise<number>;
  /** The gateway's connection id of an open client. */
  connectionIdOf(client: TestClient): string;
  /**
   * Resolves, within a bound, once the work set off so far has finished: the
   * `$disconnect` of every client closed, then the stream records and
   * asynchronous invocations (presence, pruning) and what they set off.
   */
  settled(): Promise<void>;
  /**
   * A clean slate for `clients`: {@link StackFixture.settled}, then every
   * presence frame they received marked as taken. Frames are coalesced, so a
   * connection that joined just before another may or may not hear of it.
   */
  settledPresence(...clients: TestClient[]): Promise<void>;
}

export interface StackFixtureOptions {
  /** Makes the cloud assembly to run; the one the global setup synthesized when absent. */
  readonly assembly?: () => string | Promise<string>;
  /** Runs after the stack has stopped (to remove an assembly of the test's own). */
  readonly afterStop?: () => void;
  /** The stack's configuration; none of the process's environment leaks in. */
  readonly env?: Readonly<Record<string, string>>;
  readonly limits?: Partial<GatewayLimits>;
  /** Faults the stack injects; none when absent. */
  readonly faults?: FaultOptions;
  /** Counts the functions' AWS calls (the call-count test). */
  readonly meter?: Meter;
}

/**
 * Starts a local stack on `engine` before the tests of the calling `describe`
 * and stops it after them; every client a test opened is closed after that test.
 * Without options the stack is the worker's plain one where the project shares
 * stacks (see {@link plainLocalStack}): released after the tests, not stopped.
 */
export function useLocalStack(engine: EngineName, options: StackFixtureOptions = {}): StackFixture {
  let running: LocalStack | undefined;
  const logs: string[] = [];
  const clients = new Set<TestClient>();

  const log = (line: string) => logs.push(line);
  let release = async () => {};

  beforeAll(async () => {
    // No options at all: the plain stack, shared where the project shares stacks.
    const used =
      Object.keys(options).length === 0
        ? await plainLocalStack(engine, log)
        : await ownLocalStack({
            assembly: (await options.assembly?.()) ?? inject('cdkOutdir'),
            engine,
            env: options.env ?? {},
            ...(options.limits === undefined ? {} : { limits: options.limits }),
            ...(options.faults === undefined ? {} : { faults: options.faults }),
            ...(options.meter === undefined ? {} : { meter: options.meter }),
            log,
          });
    running = used.stack;
    release = used.release;
  });

  afterEach(async () => {
    const open = [...clients];
    clients.clear();
    await Promise.allSettled(open.map((client) => client.close()));
  });

  afterAll(async () => {
    await release();
    options.afterStop?.();
    // Every function's role, as synthesized, allows every call the tests make.
    if (options.assembly === undefined) {
      expect(logs.filter((line) => line.startsWith('AccessDenied: '))).toEqual([]);
    }
    // Powertools Logger writes the level in capitals.
    const failures = logs.filter((line) => /"level":"ERROR"|failed:/.test(line));
    if (failures.length > 0) {
      console.warn(`local stack (${engine}) logged errors:\n${failures.join('\n')}`);
    }
  });

  const fixture: StackFixture = {
    get stack() {
      if (running === undefined) throw new Error('the local stack has not started');
      return running;
    },
    logs,
    async token(request) {
      const query = new URLSearchParams({ sub: request.sub });
      if (request.name !== undefined) query.set('name', request.name);
      if (request.rooms !== undefined) query.set('rooms', request.rooms);
      if (request.ttl !== undefined) query.set('ttl', String(request.ttl));
      const response = await fetch(`${fixture.stack.httpUrl}/dev/token?${query}`);
      if (!response.ok) throw new Error(`/dev/token answered ${response.status}`);
      return ((await response.json()) as { token: string }).token;
    },
    async connect(user, openOptions) {
      const request = typeof user === 'string' ? { sub: user } : user;
      return fixture.connectWith(await fixture.token(request), openOptions);
    },
    async connectWith(token, openOptions) {
      const client = await TestClient.open(fixture.stack.url, token, openOptions);
      clients.add(client);
      return client;
    },
    async joined(user, room) {
      const client = await fixture.connect(user);
      const reply = await client.request({ action: 'join', room });
      if (reply.type !== 'joined')
        throw new Error(`join ${room} answered ${JSON.stringify(reply)}`);
      return client;
    },
    async refusal(token, openOptions) {
      try {
        await fixture.connectWith(token, openOptions);
      } catch (error) {
        if (error instanceof HandshakeRefusedError) return error.status;
        throw error;
      }
      throw new Error('the upgrade was accepted');
    },
    async settled() {
      await within(settle(fixture.stack, clients), WAIT_MS, 'the local stack to settle');
    },
    async settledPresence(...settling) {
      await fixture.settled();
      await Promise.all(settling.map((client) => client.takePendingPresence()));
    },
    connectionIdOf(client) {
      for (const [id, connection] of fixture.stack.gateway.connections) {
        if (connection.source.userAgent === client.tag) return id;
      }
      throw new Error(`the gateway holds no connection for ${client.tag}`);
    },
  };
  return fixture;
}

/** The gateway's `$disconnect` invocations in flight (private: no accessor exists). */
function disconnectsOf(stack: LocalStack): ReadonlySet<Promise<unknown>> {
  const disconnects = (stack.gateway as unknown as { disconnects?: Set<Promise<unknown>> })
    .disconnects;
  if (disconnects === undefined) throw new Error('the gateway no longer keeps its disconnects');
  return disconnects;
}

/** See {@link StackFixture.settled}. */
async function settle(stack: LocalStack, clients: ReadonlySet<TestClient>): Promise<void> {
  // A client may see its socket closed before the gateway's 'close' listener
  // has run, which is where the gateway forgets the connection and invokes `$disconnect`.
  const closing = () => {
    const closed = new Set(
      [...clients]
        .filter((client) => client.socket.readyState !== WebSocket.OPEN)
        .map((c) => c.tag),
    );
    return [...stack.gateway.connections.values()].some((connection) =>
      closed.has(connection.source.userAgent ?? ''),
    );
  };
  await eventually(
    () => (closing() ? undefined : true),
    WAIT_MS,
    'closed sockets to reach the gateway',
    10,
  );
  // Asynchronous work may close a connection (a DELETE), whose `$disconnect` writes again.
  for (;;) {
    await Promise.allSettled([...disconnectsOf(stack)]);
    await stack.streamsIdle();
    if (disconnectsOf(stack).size === 0) return;
  }
}

let named = 0;

/**
 * A name no other test uses, for a user or a room: `label-<n>`. The count is
 * this module's, so it goes on across the files that share it, and their
 * stack (see {@link plainLocalStack}): one file's `bob-3` is never another's.
 */
export const fresh = (label: string): string => `${label}-${freshNumber()}`;

/** The number {@link fresh} would use next, for names it cannot shape (a page's display name). */
export const freshNumber = (): number => ++named;

/** A user as frames show it. */
export const user = (userId: string, name = userId): Frame => ({ userId, name });

/** Members of a `joined` reply, in a stable order for comparison. */
export function membersOf(reply: Frame): Frame[] {
  const members = (reply.members ?? []) as Frame[];
  return [...members].sort((a, b) => String(a.userId).localeCompare(String(b.userId)));
}

const java = await javaVersion();
const javaMissing = java === undefined || java < MIN_JAVA_VERSION;

/**
 * The engines to run on: both, except that without Java 17+ DynamoDB Local is
 * left out locally (see {@link registerSkippedEngineNotice}). With `CI` set it
 * stays in, so its stack fails to start with a `JavaUnavailableError`.
 */
export const ENGINES: readonly EngineName[] =
  javaMissing && !process.env.CI ? ['dynalite'] : ['dynalite', 'dynamodb-local'];

/**
 * Describes `suite` on each of {@link ENGINES}, as `on <engine> > <title>`:
 * the engines side by side, each one's tests in turn. Most of an engine's
 * time is spent waiting (a second's presence window, a reconnect), so two
 * stacks in one file take about the time of one.
 */
export function describeOnEachEngine(title: string, suite: (engine: EngineName) => void): void {
  describe.concurrent.each(ENGINES)('on %s', (engine) => {
    describe(title, { concurrent: false }, () => suite(engine));
  });
}

/**
 * Registers, when DynamoDB Local is left out, one test that says so loudly,
 * so the run never looks complete when half of it did not run.
 */
export function registerSkippedEngineNotice(
  it: (name: string, test: () => void) => void,
  suite: string,
): void {
  if (ENGINES.includes('dynamodb-local')) return;
  it(`did not run ${suite} on dynamodb-local: Java ${MIN_JAVA_VERSION}+ is missing`, () => {
    console.warn(
      [
        '',
        '#'.repeat(72),
        `#  SKIPPED: ${suite} on DynamoDB Local: Java ${MIN_JAVA_VERSION}+ not found`,
        `#  ('java -version' gave ${java ?? 'nothing'}). Install Java ${MIN_JAVA_VERSION}+ to run it;`,
        '#  with CI set, a missing Java fails the suite instead.',
        '#'.repeat(72),
        '',
      ].join('\n'),
    );
  });
}
