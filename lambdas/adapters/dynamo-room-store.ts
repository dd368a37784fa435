import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from '../../protocol/messages.js';
import type { HandOverWindow, Member, RoomStore } from '../domain/ports.js';
import { setBounded } from '../shared/bounded-map.js';
import { isConditionFailure } from './dynamo-errors.js';
import {
  CONNECTION_TTL_S,
  epochSeconds,
  isLive,
  MEMBER_SK_PREFIX,
  memberSk,
  pruneClaimSk,
  ROOM_HEAD_SK,
  roomPk,
} from './table-keys.js';

/** Bound on the claims an instance remembers. */
const CLAIMS_REMEMBERED = 10_000;
/** Gone claims expire this long after their window, well after any hand-over reads them. */
const CLAIM_TTL_S = 3600;

/** A membership record: one per user and room, listing the user's connections there. */
interface MemberItem {
  readonly sk: string;
  readonly userId?: string;
  readonly name?: string;
  readonly conns?: ReadonlySet<string>;
  readonly expiresAt?: number;
  /** Only on the room head. */
  readonly seq?: number;
}

/**
 * Room membership in the single table. A user's connections in a room are a
 * string set on one record, so "first connection in" and "last connection out"
 * are answered atomically by the write itself (its old value), with no transaction.
 */
export class DynamoRoomStore implements RoomStore {
  /** Room and connection claimed (or seen claimed) by this instance, with the window's start. */
  private readonly claims = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async addConnection(room: string, user: User, connectionId: string) {
    const now = this.clock();
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: roomPk(room), sk: memberSk(user.userId) },
        UpdateExpression: 'ADD conns :conn SET userId = :userId, #name = :name, expiresAt = :exp',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: {
          ':conn': new Set([connectionId]),
          ':userId': user.userId,
          ':name': user.name,
          ':exp': epochSeconds(now) + CONNECTION_TTL_S,
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const old = result.Attributes as MemberItem | undefined;
    const stale = old !== undefined && !isLive(old, now);
    if (stale && old.conns !== undefined) {
      // Expired record (read as absent): drop the connections it still listed.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: roomPk(room), sk: memberSk(user.userId) },
          UpdateExpression: 'SET conns = :only',
          ExpressionAttributeValues: { ':only': new Set([connectionId]) },
        }),
      );
    }
    return { alreadyIn: !stale && (old?.conns?.has(connectionId) ?? false) };
  }

  async removeConnection(room: string, userId: string, connectionId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: roomPk(room), sk: memberSk(userId) },
          UpdateExpression: 'DELETE conns :conn',
          // Without it, DELETE on a missing record would create an empty one.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':conn': new Set([connectionId]) },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * One UpdateItem adds the ids to the window's claim item and returns the
   * ids it held before: the rest are this caller's. Ids this instance already
   * claimed, or saw claimed, in the window are not written again: its every
   * fan-out to the room meets them until they are removed. (The item holds
   * about 20 bytes per id: the 400 KB item limit is some 15,000 connections
   * gone in one room in one minute; past it the write fails and the caller
   * hands all of them over, as without a claim.)
   */
  async claimGone(
    room: string,
    connectionIds: readonly string[],
    window: HandOverWindow,
  ): Promise<string[]> {
    const keyOf = (id: string) => `${room}\n${id}`;
    const fresh = connectionIds.filter((id) => this.claims.get(keyOf(id)) !== window.startMs);
    if (fresh.length === 0) return [];
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: roomPk(room), sk: pruneClaimSk(window.startMs) },
        UpdateExpression: 'ADD gone :ids SET expiresAt = :exp',
        ExpressionAttributeValues: {
          ':ids': new Set(fresh),
          ':exp': epochSeconds(window.endMs) + CLAIM_TTL_S,
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const before = (result.Attributes?.gone as ReadonlySet<string> | undefined) ?? new Set();
    for (const id of fresh) setBounded(this.claims, keyOf(id), window.startMs, CLAIMS_REMEMBERED);
    return fresh.filter((id) => !before.has(id));
  }

  async *memberPages(room: string): AsyncIterable<readonly Member[]> {
    for await (const items of this.query(room, MEMBER_SK_PREFIX)) {
      yield this.members(items);
    }
  }

  async snapshot(room: string): Promise<{ members: Member[]; seq: number }> {
    const members: Member[] = [];
    let seq = 0;
    // `begins_with(sk, "member")` also matches the room head, which sorts first.
    for await (const items of this.query(room, ROOM_HEAD_SK)) {
      for (const item of items) {
        if (item.sk === ROOM_HEAD_SK) seq = item.seq ?? 0;
      }
      members.push(...this.members(items));
    }
    return { members, seq };
  }

  private members(items: readonly MemberItem[]): Member[] {
    const now = this.clock();
    return items
      .filter(
        (item) => item.sk !== ROOM_HEAD_SK && isLive(item, now) && (item.conns?.size ?? 0) > 0,
      )
      .map((item) => ({
        userId: item.userId ?? '',
        name: item.name ?? item.userId ?? '',
        connectionIds: [...(item.conns ?? [])],
      }));
  }

  private async *query(room: string, prefix: string): AsyncIterable<MemberItem[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': roomPk(room), ':prefix': prefix },
          // A join must be visible to the next send's fan-out (see join).
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      yield (page.Items ?? []) as MemberItem[];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}
