/**
 * The single table's key layout. Every access is by key; nothing is scanned.
 *
 * | item        | pk               | sk                     |
 * |-------------|------------------|------------------------|
 * | connection  | `user#<userId>`  | `conn#<connectionId>`  |
 * | room head   | `room#<room>`    | `member`               |
 * | membership  | `room#<room>`    | `member#<userId>`      |
 * | message     | `room#<room>`    | `msg#<seq, 16 digits>` |
 * | gone claims | `room#<room>`    | `prune#<window start>` |
 *
 * Connections sit under their user, so a user's connections are one Query
 * (connection limit, `direct`) and the authorizer context gives the key. The
 * room head (holding the seq counter) sorts right before the memberships, so
 * one Query with `begins_with(sk, "member")` reads the members and the seq together.
 * The gone claims (which connections found gone were handed to `prune` in a
 * minute) sort after the messages and expire an hour after their minute.
 *
 * One sparse index, `bySweepShard`, holds only connection records: partition
 * `sweepShard` (`sweep#<0..15>`, from the connection id), sort `connectedAt`.
 * The sweeper lists every connection through it without a Scan; the shards
 * keep any one index partition under DynamoDB's per-partition write rate.
 */
export const TTL_ATTRIBUTE = 'expiresAt';

export const userPk = (userId: string) => `user#${userId}`;
export const connectionSk = (connectionId: string) => `conn#${connectionId}`;
export const CONNECTION_SK_PREFIX = 'conn#';

export const SWEEP_INDEX = 'bySweepShard';
export const SWEEP_SHARD_ATTRIBUTE = 'sweepShard';
export const SWEEP_SHARDS = 16;
export const sweepShardKey = (shard: number) => `sweep#${shard}`;

/** The shard of a connection: FNV-1a of its id, so connections spread evenly. */
export function sweepShardOf(connectionId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < connectionId.length; index++) {
    hash ^= connectionId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SWEEP_SHARDS;
}

export const ROOM_PK_PREFIX = 'room#';
export const roomPk = (room: string) => `${ROOM_PK_PREFIX}${room}`;
export const ROOM_HEAD_SK = 'member';
export const memberSk = (userId: string) => `member#${userId}`;
export const MEMBER_SK_PREFIX = 'member#';
/** The claims on a room's gone connections in one hand-over window, by its start (ms). */
export const pruneClaimSk = (windowStartMs: number) => `prune#${windowStartMs}`;
export const PRUNE_CLAIM_SK_PREFIX = 'prune#';

const SEQ_DIGITS = 16;
export const messageSk = (seq: number) => `msg#${String(seq).padStart(SEQ_DIGITS, '0')}`;
// Written out: 10 ** 16 - 1 is not exactly representable as a double.
export const LAST_MESSAGE_SK = `msg#${'9'.repeat(SEQ_DIGITS)}`;

/**
 * Connection and membership records outlive API Gateway's 2-hour connection
 * limit by an hour, so TTL never removes a live connection's records.
 */
export const CONNECTION_TTL_S = 3 * 3600;

/** Seconds since the epoch, as DynamoDB TTL wants it. */
export const epochSeconds = (ms: number) => Math.floor(ms / 1000);

/**
 * DynamoDB deletes expired items only eventually (up to days later), so every
 * read treats an item whose TTL has passed as absent.
 */
export function isLive(item: { expiresAt?: unknown }, nowMs: number): boolean {
  return typeof item.expiresAt !== 'number' || item.expiresAt > epochSeconds(nowMs);
}
