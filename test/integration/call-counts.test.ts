import { describe, expect, it } from 'vitest';
import { Meter, type MeterSnapshot } from '../../local/metering/meter.js';
import { useLocalStack } from './support/local-stack-fixture.js';
import { sleep, type TestClient } from './support/ws-client.js';

/**
 * The AWS calls each request path makes, counted on the local stack at the
 * boundaries AWS bills: DynamoDB requests by operation, management API
 * requests by method. A change that adds a call to a path fails here; one that
 * removes a call updates the expectation, on purpose.
 *
 * Requests are spaced past the rate limiter's interval (100 ms at 10 a
 * second), so each admission's first conditional write is the right guess and
 * no retry write is counted.
 */
describe('calls per request path, on dynalite', () => {
  const meter = new Meter();
  const local = useLocalStack('dynalite', { meter });

  /** What `action` costs, with everything before it settled and nothing after it counted. */
  async function costOf(action: () => Promise<unknown>): Promise<Counts> {
    await sleep(150);
    meter.reset();
    await action();
    // Fan-out posts finish before the function returns; the function returns before its reply.
    await sleep(100);
    return counts(meter.snapshot());
  }

  async function inRoom(room: string, ...users: string[]): Promise<TestClient[]> {
    const clients: TestClient[] = [];
    for (const user of users) {
      clients.push(await local.joined(user, room));
      await sleep(150);
    }
    return clients;
  }

  it('$connect: Query the user’s connections, Put the record', async () => {
    expect(await costOf(() => local.connect('cc-connect'))).toEqual({
      dynamo: { Query: 1, PutItem: 1 },
      management: {},
    });
  });

  it('join, the user’s first connection in a room of 2: one admission write, one membership write, one Query, a presence post per member', async () => {
    await inRoom('cc-join', 'cc-join-a', 'cc-join-b');
    const carol = await local.connect('cc-join-c');

    expect(await costOf(() => carol.request({ action: 'join', room: 'cc-join' }))).toEqual({
      dynamo: { UpdateItem: 2, Query: 1 },
      management: { POST: 2 },
    });
  });

  it('send to a room of 3: admission, seq, message Put, one member Query, a post per member', async () => {
    const [alice] = await inRoom('cc-send', 'cc-send-a', 'cc-send-b', 'cc-send-c');

    expect(
      await costOf(() =>
        (alice as TestClient).request({ action: 'send', room: 'cc-send', data: 1 }),
      ),
    ).toEqual({ dynamo: { UpdateItem: 2, PutItem: 1, Query: 1 }, management: { POST: 3 } });
  });

  it('typing in a room of 3: admission, one member Query, a post per other member', async () => {
    const [alice] = await inRoom('cc-typing', 'cc-typing-a', 'cc-typing-b', 'cc-typing-c');

    expect(
      await costOf(async () => {
        (alice as TestClient).send({ action: 'typing', room: 'cc-typing' });
        await sleep(300);
      }),
    ).toEqual({ dynamo: { UpdateItem: 1, Query: 1 }, management: { POST: 2 } });
  });

  it('history: admission and one Query', async () => {
    const [alice] = await inRoom('cc-history', 'cc-history-a');

    expect(
      await costOf(() => (alice as TestClient).request({ action: 'history', room: 'cc-history' })),
    ).toEqual({ dynamo: { UpdateItem: 1, Query: 1 }, management: {} });
  });

  it('ping: the admission write alone', async () => {
    const alice = await local.connect('cc-ping');

    expect(await costOf(() => alice.request({ action: 'ping' }))).toEqual({
      dynamo: { UpdateItem: 1 },
      management: {},
    });
  });

  it('direct to a user with 2 connections: admission, one Query, a post per connection', async () => {
    const alice = await local.connect('cc-direct-a');
    await local.connect('cc-direct-b');
    await local.connect('cc-direct-b');

    expect(
      await costOf(() => alice.request({ action: 'direct', to: 'cc-direct-b', data: 1 })),
    ).toEqual({ dynamo: { UpdateItem: 1, Query: 1 }, management: { POST: 2 } });
  });

  it('leave, the user’s last connection in a room of 2: admission, membership write, one Query, one presence post', async () => {
    const [alice] = await inRoom('cc-leave', 'cc-leave-a', 'cc-leave-b');

    expect(
      await costOf(() => (alice as TestClient).request({ action: 'leave', room: 'cc-leave' })),
    ).toEqual({ dynamo: { UpdateItem: 2, Query: 1 }, management: { POST: 1 } });
  });

  it('$disconnect from one room of 2: Delete the record, membership write, one Query, one presence post', async () => {
    const [alice] = await inRoom('cc-close', 'cc-close-a', 'cc-close-b');

    expect(
      await costOf(async () => {
        await (alice as TestClient).close();
        await sleep(300);
      }),
    ).toEqual({ dynamo: { DeleteItem: 1, UpdateItem: 1, Query: 1 }, management: { POST: 1 } });
  });
});

interface Counts {
  readonly dynamo: Readonly<Record<string, number>>;
  readonly management: Readonly<Record<string, number>>;
}

function counts(snapshot: MeterSnapshot): Counts {
  return { dynamo: snapshot.dynamoCalls, management: snapshot.managementCalls };
}
