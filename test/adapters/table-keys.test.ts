import { describe, expect, it } from 'vitest';
import {
  connectionSk,
  epochSeconds,
  isLive,
  LAST_MESSAGE_SK,
  memberSk,
  messageSk,
  ROOM_HEAD_SK,
  roomPk,
  SWEEP_SHARDS,
  sweepShardOf,
  userPk,
} from '../../lambdas/adapters/table-keys.js';

describe('table keys', () => {
  it('pads message keys to 16 digits so they sort in seq order', () => {
    expect(messageSk(42)).toBe('msg#0000000000000042');
    const seqs = [1, 9, 10, 99, 100, 123_456_789];
    const keys = seqs.map(messageSk);
    expect([...keys].sort()).toEqual(keys);
  });

  it('ends the message range with the largest 16-digit key', () => {
    expect(LAST_MESSAGE_SK).toBe('msg#9999999999999999');
  });

  it('sorts the last message key after the key of every safe-integer seq', () => {
    for (const seq of [1, 10 ** 15, 2 * 10 ** 15, Number.MAX_SAFE_INTEGER]) {
      expect(messageSk(seq) <= LAST_MESSAGE_SK).toBe(true);
    }
  });

  it('sorts the room head right before its memberships', () => {
    const keys = [memberSk('a'), ROOM_HEAD_SK, 'conn#x', 'msg#0000000000000001'];
    expect([...keys].sort()).toEqual([
      'conn#x',
      ROOM_HEAD_SK,
      memberSk('a'),
      'msg#0000000000000001',
    ]);
    expect(memberSk('a').startsWith(ROOM_HEAD_SK)).toBe(true);
  });

  it('prefixes partition and sort keys with their kind', () => {
    expect([userPk('u'), connectionSk('c'), roomPk('r'), memberSk('u')]).toEqual([
      'user#u',
      'conn#c',
      'room#r',
      'member#u',
    ]);
  });

  it('treats an item as absent from the second its TTL names', () => {
    const now = 1_700_000_000_999;
    expect(epochSeconds(now)).toBe(1_700_000_000);
    expect(isLive({ expiresAt: 1_700_000_001 }, now)).toBe(true);
    expect(isLive({ expiresAt: 1_700_000_000 }, now)).toBe(false);
    expect(isLive({}, now)).toBe(true);
  });
});

describe('sweep shards', () => {
  it('spread connection ids over every shard roughly evenly', () => {
    const counts = new Array<number>(SWEEP_SHARDS).fill(0);
    for (let index = 0; index < 16_000; index++) {
      // API Gateway's ids look like this: 16 characters ending in '='.
      const id = `${Buffer.from(String(index * 7919))
        .toString('base64')
        .slice(0, 15)}=`;
      const shard = sweepShardOf(id);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1_200);
  });

  it('always put the same connection in the same shard', () => {
    expect(sweepShardOf('L0SM9cOFvHcCIhw=')).toBe(sweepShardOf('L0SM9cOFvHcCIhw='));
  });
});
