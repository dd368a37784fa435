import { expect } from 'vitest';
import { ROOM_PATTERN } from '../../../protocol/messages.js';
import type { Frame } from '../../integration/support/ws-client.js';
import { type FrameOracle, type KnownConnection, roomAllowed } from './frame-oracle.js';
import type { Item } from './table-scan.js';

const CONNECTION_ATTRIBUTES = [
  'pk',
  'sk',
  'connectionId',
  'userId',
  'name',
  'connectedAt',
  'expiresAt',
  'tat',
  // The rate limiter's latest admitted arrival, its lead and the lateness it forgives.
  'arr',
  'lead',
  'lag',
  'rooms',
  'renewedExp',
  'sweepShard',
];
const HEAD_ATTRIBUTES = ['pk', 'sk', 'seq'];
const MEMBERSHIP_ATTRIBUTES = ['pk', 'sk', 'userId', 'name', 'conns', 'expiresAt'];
const MESSAGE_ATTRIBUTES = ['pk', 'sk', 'frame', 'expiresAt'];
const GONE_CLAIM_ATTRIBUTES = ['pk', 'sk', 'gone', 'expiresAt'];

const strings = (value: unknown) => [...((value as Set<string> | undefined) ?? [])].sort();

function expectOnly(item: Item, allowed: readonly string[], shown: string): void {
  const others = Object.keys(item).filter((name) => !allowed.includes(name));
  expect(others, `unexpected attributes on ${shown}`).toEqual([]);
}

/**
 * Asserts that the table holds only the item kinds of `lambdas/adapters/table-keys.ts`,
 * with valid keys, and exactly what the test's record says:
 * a connection record per open connection (`open`, which are all the test's),
 * listing the rooms it joined; memberships only of those connections, in rooms
 * their tokens allow; room heads and messages only for rooms sent to, seqs
 * contiguous from 1, each message as sent.
 */
export function expectOnlyWhatWasDone(
  items: readonly Item[],
  open: readonly KnownConnection[],
  oracle: FrameOracle,
): void {
  const recorded = new Set<string>();
  const heads = new Map<string, unknown>();
  const seqs = new Map<string, number[]>();
  const memberships = new Set<string>();

  for (const item of items) {
    const shown = JSON.stringify(item, (_, value) => (value instanceof Set ? [...value] : value));
    expect(typeof item.pk === 'string' && typeof item.sk === 'string', shown).toBe(true);
    const pk = item.pk as string;
    const sk = item.sk as string;
    if (pk.startsWith('user#')) {
      const connection = open.find((known) => `conn#${known.connectionId}` === sk);
      expect(connection, `a connection record of no open connection: ${shown}`).toBeDefined();
      if (connection === undefined) continue;
      recorded.add(connection.connectionId);
      expect(pk).toBe(`user#${connection.user.userId}`);
      expectOnly(item, CONNECTION_ATTRIBUTES, shown);
      expect(item).toMatchObject({
        connectionId: connection.connectionId,
        userId: connection.user.userId,
        name: connection.user.name,
        expiresAt: expect.any(Number),
        sweepShard: expect.stringMatching(/^sweep#([0-9]|1[0-5])$/),
      });
      expect(strings(item.rooms), shown).toEqual([...connection.rooms].sort());
      continue;
    }
    expect(pk, `an item of no documented kind: ${shown}`).toMatch(/^room#/);
    const room = pk.slice('room#'.length);
    expect(room, shown).toMatch(ROOM_PATTERN);
    if (sk === 'member') {
      expectOnly(item, HEAD_ATTRIBUTES, shown);
      heads.set(room, item.seq);
    } else if (sk.startsWith('member#')) {
      const userId = sk.slice('member#'.length);
      const own = open.filter((known) => known.user.userId === userId);
      expect(own.length, `a membership of a user with no connection: ${shown}`).toBeGreaterThan(0);
      const claim = own[0] === undefined ? [] : own[0].claim;
      expect(roomAllowed(claim, room), `a membership the token forbids: ${shown}`).toBe(true);
      expectOnly(item, MEMBERSHIP_ATTRIBUTES, shown);
      const joined = own
        .filter((known) => known.rooms.has(room))
        .map((known) => known.connectionId);
      expect(strings(item.conns), shown).toEqual(joined.sort());
      memberships.add(`${room} ${userId}`);
    } else if (sk.startsWith('prune#')) {
      // Connections a fan-out found gone in the room and handed to prune, in one minute.
      expect(sk, shown).toMatch(/^prune#\d+$/);
      expectOnly(item, GONE_CLAIM_ATTRIBUTES, shown);
      expect(strings(item.gone).length, shown).toBeGreaterThan(0);
    } else {
      expect(sk, `an item of no documented kind: ${shown}`).toMatch(/^msg#\d{16}$/);
      expectOnly(item, MESSAGE_ATTRIBUTES, shown);
      const seq = Number(sk.slice('msg#'.length));
      seqs.set(room, [...(seqs.get(room) ?? []), seq]);
      oracle.expectStored(JSON.parse(String(item.frame)) as Frame, room, seq);
    }
  }

  expect([...recorded].sort()).toEqual(open.map((known) => known.connectionId).sort());
  for (const known of open) {
    for (const room of known.rooms) expect(memberships).toContain(`${room} ${known.user.userId}`);
  }
  const sentTo = [...oracle.stored.keys()].sort();
  expect([...heads.keys()].sort()).toEqual(sentTo);
  for (const room of sentTo) {
    const count = oracle.storedIn(room).length;
    expect(heads.get(room)).toBe(count);
    expect(seqs.get(room)?.sort((x, y) => x - y)).toEqual(
      Array.from({ length: count }, (_, index) => index + 1),
    );
  }
}
