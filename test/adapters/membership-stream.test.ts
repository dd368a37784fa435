import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { membershipChanges } from '../../lambdas/adapters/membership-stream.js';

const AT = 1_796_240_000;

/** Keys as the Lambda event types them (the SDK's and the event's attribute types differ in B). */
const keysOf = (keys: Record<string, string>) =>
  marshall(keys) as unknown as NonNullable<DynamoDBRecord['dynamodb']>['Keys'];
let sequence = 100;

/** A stream record of the membership record of `userId` in `room`, before and after. */
function record(
  room: string,
  userId: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): DynamoDBRecord {
  const keys = { pk: `room#${room}`, sk: `member#${userId}` };
  const image = (attributes: Record<string, unknown> | undefined) =>
    attributes === undefined
      ? undefined
      : marshall({
          ...keys,
          userId,
          name: userId.toUpperCase(),
          expiresAt: AT + 3600,
          ...attributes,
        });
  return {
    eventName: before === undefined ? 'INSERT' : after === undefined ? 'REMOVE' : 'MODIFY',
    dynamodb: {
      ApproximateCreationDateTime: AT,
      Keys: marshall(keys),
      ...(image(before) ? { OldImage: image(before) } : {}),
      ...(image(after) ? { NewImage: image(after) } : {}),
      SequenceNumber: String(++sequence),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  } as DynamoDBRecord;
}

describe('membership changes from the table’s stream', () => {
  it('reads a record gaining its first connection as an arrival, losing its last as a departure', () => {
    const changes = membershipChanges({
      Records: [
        record('lobby', 'alice', undefined, { conns: new Set(['a1']) }),
        record('lobby', 'bob', { conns: new Set(['b1']) }, {}),
        record('ops', 'carol', { conns: new Set(['c1']) }, undefined),
      ],
    });

    expect(changes.map(({ room, user, present }) => [room, user, present])).toEqual([
      ['lobby', { userId: 'alice', name: 'ALICE' }, true],
      ['lobby', { userId: 'bob', name: 'BOB' }, false],
      ['ops', { userId: 'carol', name: 'CAROL' }, false],
    ]);
    expect(changes.map((c) => c.position)).toEqual(
      [...changes].map((c) => c.position).sort((a, b) => Number(a) - Number(b)),
    );
  });

  it('reads a second connection, a repeated join or a remaining connection as no change', () => {
    const changes = membershipChanges({
      Records: [
        record('lobby', 'alice', { conns: new Set(['a1']) }, { conns: new Set(['a1', 'a2']) }),
        record('lobby', 'alice', { conns: new Set(['a1', 'a2']) }, { conns: new Set(['a2']) }),
        record(
          'lobby',
          'bob',
          { conns: new Set(['b1']) },
          { conns: new Set(['b1']), expiresAt: AT + 7200 },
        ),
      ],
    });

    expect(changes).toEqual([]);
  });

  it('reads an expired record as absent: its TTL deletion announces nothing, its revival is an arrival', () => {
    const expired = { conns: new Set(['a0']), expiresAt: AT - 1 };
    const changes = membershipChanges({
      Records: [
        record('lobby', 'alice', expired, undefined),
        record('lobby', 'bob', expired, { conns: new Set(['a0', 'b1']) }),
      ],
    });

    expect(changes.map(({ user, present }) => [user.userId, present])).toEqual([['bob', true]]);
  });

  it('skips records of other items and records without a position', () => {
    const message = record('lobby', 'alice', undefined, { conns: new Set(['a1']) });
    if (message.dynamodb) message.dynamodb.Keys = keysOf({ pk: 'room#lobby', sk: 'msg#1' });
    const head = record('lobby', 'x', undefined, { conns: new Set(['a1']) });
    if (head.dynamodb) head.dynamodb.Keys = keysOf({ pk: 'room#lobby', sk: 'member' });
    const unnumbered = record('lobby', 'bob', undefined, { conns: new Set(['b1']) });
    delete unnumbered.dynamodb?.SequenceNumber;

    expect(membershipChanges({ Records: [message, head, unnumbered] })).toEqual([]);
  });
});
