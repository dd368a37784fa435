import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { MembershipChange } from '../domain/presence.js';
import { isLive, MEMBER_SK_PREFIX, ROOM_PK_PREFIX } from './table-keys.js';

/** A membership record's attributes, as far as presence reads them. */
interface MemberImage {
  readonly pk?: unknown;
  readonly sk?: unknown;
  readonly userId?: unknown;
  readonly name?: unknown;
  readonly conns?: unknown;
  readonly expiresAt?: unknown;
}

/**
 * The arrivals and departures in a batch of the table's stream records
 * (`NEW_AND_OLD_IMAGES`), in stream order. A user is in a room while its
 * membership record lists a connection and has not expired, so a record
 * changing from none to some is an arrival, from some to none a departure
 * (whether by `leave`, `$disconnect`, pruning or TTL), and every other
 * change (a second connection, a join repeated) is nothing to announce.
 * Records of other items, which the event source's filter already keeps
 * out, are skipped here too.
 */
export function membershipChanges(event: DynamoDBStreamEvent): MembershipChange[] {
  const changes: MembershipChange[] = [];
  for (const record of event.Records ?? []) {
    const change = changeOf(record);
    if (change !== undefined) changes.push(change);
  }
  return changes;
}

function changeOf(record: DynamoDBRecord): MembershipChange | undefined {
  const stream = record.dynamodb;
  const position = stream?.SequenceNumber;
  if (stream === undefined || position === undefined) return undefined;
  const keys = imageOf(stream.Keys);
  if (typeof keys?.pk !== 'string' || typeof keys.sk !== 'string') return undefined;
  if (!keys.pk.startsWith(ROOM_PK_PREFIX) || !keys.sk.startsWith(MEMBER_SK_PREFIX))
    return undefined;
  // The change's own time decides expiry, not when the batch happens to run.
  const at = (stream.ApproximateCreationDateTime ?? Date.now() / 1000) * 1000;
  const before = imageOf(stream.OldImage);
  const after = imageOf(stream.NewImage);
  const wasIn = present(before, at);
  const isIn = present(after, at);
  if (wasIn === isIn) return undefined;
  const image = (isIn ? after : before) as MemberImage;
  const userId =
    typeof image.userId === 'string' ? image.userId : keys.sk.slice(MEMBER_SK_PREFIX.length);
  const name = typeof image.name === 'string' ? image.name : userId;
  return {
    room: keys.pk.slice(ROOM_PK_PREFIX.length),
    user: { userId, name },
    present: isIn,
    position,
  };
}

function present(image: MemberImage | undefined, at: number): boolean {
  if (image === undefined) return false;
  const conns = image.conns;
  const listed = conns instanceof Set ? conns.size > 0 : Array.isArray(conns) && conns.length > 0;
  return listed && isLive(image, at);
}

function imageOf(image: { [key: string]: unknown } | undefined): MemberImage | undefined {
  if (image === undefined) return undefined;
  // The Lambda event's attribute values are DynamoDB JSON, as the SDK's.
  return unmarshall(image as Record<string, AttributeValue>) as MemberImage;
}
