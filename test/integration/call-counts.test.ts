import { describe, expect, it } from 'vitest';
import { Meter, type MeterSnapshot } from '../../local/metering/meter.js';
import { useLocalStack } from './support/local-stack-fixture.js';
import { eventually, type TestClient, WAIT_MS } from './support/ws-client.js';

/**
 * The AWS calls each request path makes, with the asynchronous work it
 * causes (the `presence` function fed by the table's stream, the `prune`
 * function), counted on the local stack at the boundaries AWS bills: DynamoDB
 * requests by operation, management API requests by method, Lambda
 * invocations by function. A change that adds a call to a path fails here;
 * one that removes a call updates the expectation, on purpose.
 *
 * The rate limit is set far above these requests' pace, so each admission's
 * first conditional write is the right one and no retry write is counted.
 */
/**
 * Bound on presence after a prune: the send's asynchronous invocation of
 * `prune`, its stream record, the presence window (1 s), each function
 * possibly a cold start; a run with three test files at once once took
 * more than WAIT_MS (5 s).
 */
const PRUNE_THEN_PRESENCE_MS = 15_000;

describe('calls per request path, on dynalite', () => {
  const meter = new Meter();
  const local = useLocalStack('dynalite', { meter, env: { RATE_LIMIT_PER_SECOND: '1000' } });

  /**
   * What `action` costs, from a settled stack until `done` (the effect the
   * action waits for) and then all the asynchronous work it caused.
   */
  async function costOf(action: () => Promise<unknown>): Promise<Counts> {
    await local.stack.streamsIdle();
    meter.reset();
    await action();
    await local.stack.streamsIdle();
    return counts(meter.snapshot());
  }

  /** Users of one connection each in `room`, their arrivals announced and their frames taken. */
  async function inRoom(room: string, ...users: string[]): Promise<TestClient[]> {
    const clients: TestClient[] = [];
    for (const user of users) clients.push(await local.joined(user, room));
    await local.stack.streamsIdle();
    for (const client of clients) await client.take(client.untaken().length, () => true);
    return clients;
  }

  /** Waits until `functionName` has returned `count` times (its posts arrive before it returns). */
  const returned = (functionName: string, count = 1) =>
    eventually(
      () => ((meter.snapshot().invocations[functionName]?.count ?? 0) >= count ? true : undefined),
      WAIT_MS,
      `${functionName} to return`,
    );

  it('$connect: Query the user’s connections, Put the record', async () => {
    expect(await costOf(() => local.connect('cc-connect'))).toEqual({
      dynamo: { Query: 1, PutItem: 1 },
      management: {},
      invocations: { AuthorizerHandler: 1, ConnectHandler: 1 },
    });
  });

  it('join, the user’s first connection in a room of 2: the request writes twice and reads once, presence reads once and posts to each member', async () => {
    const [alice, bob] = await inRoom('cc-join', 'cc-join-a', 'cc-join-b');
    const carol = await local.connect('cc-join-c');

    const cost = await costOf(async () => {
      await carol.request({ action: 'join', room: 'cc-join' });
      await alice?.nextOfType('presence');
      await bob?.nextOfType('presence');
    });

    expect(cost).toEqual({
      // Request: admission, membership; snapshot. Presence: the members.
      dynamo: { UpdateItem: 2, Query: 2 },
      management: { POST: 2 },
      invocations: { JoinHandler: 1, PresenceHandler: 1 },
    });
  });

  it('send to a room of 3: admission, seq, message Put, one member Query, a post per member', async () => {
    const [alice, bob, carol] = await inRoom('cc-send', 'cc-send-a', 'cc-send-b', 'cc-send-c');

    const cost = await costOf(async () => {
      await (alice as TestClient).request({ action: 'send', room: 'cc-send', data: 1 });
      await bob?.nextOfType('message');
      await carol?.nextOfType('message');
    });

    expect(cost).toEqual({
      dynamo: { UpdateItem: 2, PutItem: 1, Query: 1 },
      management: { POST: 3 },
      invocations: { SendHandler: 1 },
    });
  });

  it('send to a room of 3 where one member is gone: the send hands it to prune, which removes it, and presence tells the other', async () => {
    const [alice, bob, carol] = await inRoom('cc-gone', 'cc-gone-a', 'cc-gone-b', 'cc-gone-c');
    // Gone without a $disconnect, as after a lost network.
    expect(local.stack.gateway.vanish(local.connectionIdOf(carol as TestClient))).toBe(true);

    const cost = await costOf(async () => {
      await (alice as TestClient).request({ action: 'send', room: 'cc-gone', data: 1 });
      await bob?.nextOfType('presence', {}, PRUNE_THEN_PRESENCE_MS);
    });

    expect(cost).toEqual({
      // Send: admission, seq, message, members, the claim on the gone one.
      // Prune: the record, the membership. Presence: the members.
      dynamo: { UpdateItem: 4, PutItem: 1, Query: 2, DeleteItem: 1 },
      // Send: 3 posts (one answered 410). Presence: one to each of the two left.
      management: { POST: 5 },
      invocations: { SendHandler: 1, PruneHandler: 1, PresenceHandler: 1 },
    });
  }, 30_000);

  it('typing in a room of 3: admission, one member Query, a post per other member', async () => {
    const [alice, bob, carol] = await inRoom(
      'cc-typing',
      'cc-typing-a',
      'cc-typing-b',
      'cc-typing-c',
    );

    const cost = await costOf(async () => {
      (alice as TestClient).send({ action: 'typing', room: 'cc-typing' });
      await bob?.nextOfType('typing');
      await carol?.nextOfType('typing');
      await returned('TypingHandler');
    });

    expect(cost).toEqual({
      dynamo: { UpdateItem: 1, Query: 1 },
      management: { POST: 2 },
      invocations: { TypingHandler: 1 },
    });
  });

  it('history: admission and one Query', async () => {
    const [alice] = await inRoom('cc-history', 'cc-history-a');

    expect(
      await costOf(() => (alice as TestClient).request({ action: 'history', room: 'cc-history' })),
    ).toEqual({
      dynamo: { UpdateItem: 1, Query: 1 },
      management: {},
      invocations: { HistoryHandler: 1 },
    });
  });

  it('ping: the admission write alone', async () => {
    const alice = await local.connect('cc-ping');

    expect(await costOf(() => alice.request({ action: 'ping' }))).toEqual({
      dynamo: { UpdateItem: 1 },
      management: {},
      invocations: { PingHandler: 1 },
    });
  });

  it('direct to a user with 2 connections: admission, one Query, a post per connection', async () => {
    const alice = await local.connect('cc-direct-a');
    await local.connect('cc-direct-b');
    await local.connect('cc-direct-b');

    expect(
      await costOf(() => alice.request({ action: 'direct', to: 'cc-direct-b', data: 1 })),
    ).toEqual({
      dynamo: { UpdateItem: 1, Query: 1 },
      management: { POST: 2 },
      invocations: { DirectHandler: 1 },
    });
  });

  it('leave, the user’s last connection in a room of 2: admission and membership writes; presence reads once and posts once', async () => {
    const [alice, bob] = await inRoom('cc-leave', 'cc-leave-a', 'cc-leave-b');

    const cost = await costOf(async () => {
      await (alice as TestClient).request({ action: 'leave', room: 'cc-leave' });
      await bob?.nextOfType('presence');
    });

    expect(cost).toEqual({
      dynamo: { UpdateItem: 2, Query: 1 },
      management: { POST: 1 },
      invocations: { LeaveHandler: 1, PresenceHandler: 1 },
    });
  });

  it('$disconnect from one room of 2: Delete the record and the membership; presence reads once and posts once', async () => {
    const [alice, bob] = await inRoom('cc-close', 'cc-close-a', 'cc-close-b');

    const cost = await costOf(async () => {
      await (alice as TestClient).close();
      await bob?.nextOfType('presence');
      await returned('DisconnectHandler');
    });

    expect(cost).toEqual({
      dynamo: { DeleteItem: 1, UpdateItem: 1, Query: 1 },
      management: { POST: 1 },
      invocations: { DisconnectHandler: 1, PresenceHandler: 1 },
    });
  });
});

interface Counts {
  readonly dynamo: Readonly<Record<string, number>>;
  readonly management: Readonly<Record<string, number>>;
  readonly invocations: Readonly<Record<string, number>>;
}

function counts(snapshot: MeterSnapshot): Counts {
  return {
    dynamo: snapshot.dynamoCalls,
    management: snapshot.managementCalls,
    invocations: Object.fromEntries(
      Object.entries(snapshot.invocations).map(([name, { count }]) => [name, count]),
    ),
  };
}
