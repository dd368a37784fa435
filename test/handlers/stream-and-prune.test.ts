import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsLog } from '../../lambdas/adapters/powertools-log.js';
import { PRUNES_PER_INVOCATION } from '../../lambdas/domain/pruning.js';
import { ping } from '../../lambdas/domain/requests/ping.js';
import { createPresenceHandler } from '../../lambdas/handlers/presence.js';
import { createPruneHandler } from '../../lambdas/handlers/prune.js';
import { callerOf, connect, fakeServices, NOW } from '../support/fakes.js';
import { type CapturedOutput, captureOutput } from '../support/output.js';

// Read when the handler modules build their services at import, as in Lambda;
// the tests give the handlers in-memory services instead.
vi.hoisted(() => {
  Object.assign(process.env, {
    TABLE_NAME: 'realtime-table',
    CALLBACK_URL: 'https://abc123.execute-api.us-east-1.amazonaws.com/prod',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});

let world: ReturnType<typeof fakeServices>;
let output: CapturedOutput;
beforeEach(async () => {
  output = captureOutput();
  world = fakeServices();
  const bob = await connect(world, callerOf('bob', 'b1'));
  await world.rooms.addConnection('lobby', bob.identity, bob.connectionId);
  world.rooms.changes.length = 0;
  world.clock.now += 60_000;
});
afterEach(() => output.restore());

/** An arrival of `userId` in `room`, as the stream delivers it. */
function arrival(room: string, userId: string, sequence: string): DynamoDBRecord {
  const keys = { pk: `room#${room}`, sk: `member#${userId}` };
  return {
    eventName: 'INSERT' as const,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(NOW / 1000),
      Keys: marshall(keys),
      NewImage: marshall({
        ...keys,
        userId,
        name: userId,
        conns: new Set([`${userId}-c`]),
        expiresAt: Math.floor(NOW / 1000) + 3600,
      }),
      SequenceNumber: sequence,
      StreamViewType: 'NEW_AND_OLD_IMAGES' as const,
    },
  } as unknown as DynamoDBRecord;
}

describe('the presence function', () => {
  it('answers the first change of each room it could not announce as a batch item failure', async () => {
    world.rooms.unreadable.add('broken');
    const handler = createPresenceHandler(world.services, new PowertoolsLog());
    const event: DynamoDBStreamEvent = {
      Records: [
        arrival('lobby', 'alice', '1'),
        arrival('broken', 'x', '2'),
        arrival('lobby', 'carol', '3'),
      ],
    };

    const first = await handler(event);
    // Lambda resumes from the failed record: the lobby's later change is in the batch again.
    const retried = await handler({
      Records: [event.Records[1], event.Records[2]] as DynamoDBStreamEvent['Records'],
    });

    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    expect(retried).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    // Announced once, not again on the retry.
    expect(world.notifier.to('b1')).toEqual([
      {
        type: 'presence',
        room: 'lobby',
        joined: [
          { userId: 'alice', name: 'alice' },
          { userId: 'carol', name: 'carol' },
        ],
        left: [],
      },
    ]);
  });
});

/** A connection of dan's, as the prune queue hands it over. */
const DAN = { connectionId: 'd1', userId: 'dan', name: 'dan' };

describe('the prune function', () => {
  it('removes the connections handed over with their memberships', async () => {
    await connect(world, callerOf('dan', 'd1'));
    await world.rooms.addConnection('lobby', { userId: 'dan', name: 'dan' }, 'd1');
    world.clock.now += 60_000;

    const report = await createPruneHandler(world.services)({
      gone: [{ connectionId: 'd1', userId: 'dan', name: 'dan', room: 'lobby' }],
    });

    expect(report).toEqual({ removed: 1, failed: 0 });
    expect(world.connections.records.has('d1')).toBe(false);
    const members = (await world.rooms.snapshot('lobby')).members.map((m) => m.userId);
    expect(members).toEqual(['bob']);
  });

  it("keeps a direct's young connection whose request arrived after the post found it gone, and removes one whose request came before", async () => {
    const postedAt = world.clock.now;
    await connect(world, callerOf('dan', 'd1'));
    await connect(world, callerOf('eve', 'e1'));
    await ping(world.services, callerOf('eve', 'e1'), { action: 'ping' });
    world.clock.now += 1_000;
    await ping(world.services, callerOf('dan', 'd1'), { action: 'ping' });

    const report = await createPruneHandler(world.services)({
      gone: [
        { connectionId: 'd1', userId: 'dan', name: 'dan', postedAt },
        { connectionId: 'e1', userId: 'eve', name: 'eve', postedAt: postedAt + 1_000 },
      ],
    });

    expect(report).toEqual({ removed: 1, failed: 0 });
    expect(world.connections.records.has('d1')).toBe(true);
    expect(world.connections.records.has('e1')).toBe(false);
  });

  it('fails the invocation when a departure failed, so that Lambda retries it', async () => {
    world.connections.failingRemoval.add('b1');

    await expect(
      createPruneHandler(world.services)({
        gone: [{ connectionId: 'b1', userId: 'bob', name: 'bob', room: 'lobby' }],
      }),
    ).rejects.toThrow('1 of 1 departures failed');
  });

  it.each([
    ['no list', {}],
    ['an empty list', { gone: [] }],
    [
      'too many',
      {
        gone: Array.from({ length: PRUNES_PER_INVOCATION + 1 }, () => ({ ...DAN, room: 'lobby' })),
      },
    ],
    ['a connection without a user', { gone: [{ connectionId: 'd1', room: 'lobby' }] }],
    ['a room that is no room name', { gone: [{ ...DAN, room: 'a b' }] }],
    ['a postedAt that is no time', { gone: [{ ...DAN, postedAt: '2026-12-03' }] }],
    ['a negative postedAt', { gone: [{ ...DAN, postedAt: -1 }] }],
    ['a fractional postedAt', { gone: [{ ...DAN, postedAt: 1.5 }] }],
  ])('refuses an event with %s before removing anything', async (_, event) => {
    await connect(world, callerOf('dan', 'd1'));
    await world.rooms.addConnection('lobby', { userId: 'dan', name: 'dan' }, 'd1');
    world.clock.now += 60_000;

    await expect(createPruneHandler(world.services)(event)).rejects.toThrow();

    // A connection each malformed event names, and could have removed, is still there.
    expect(world.connections.records.has('d1')).toBe(true);
    const members = (await world.rooms.snapshot('lobby')).members.map((m) => m.userId);
    expect(members.sort()).toEqual(['bob', 'dan']);
  });
});
