import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CONNECTION_SK_PREFIX,
  MEMBER_SK_PREFIX,
  roomPk,
} from '../../lambdas/adapters/table-keys.js';
import { forEachBounded } from '../../lambdas/domain/concurrency.js';
import type { FaultOptions } from '../../local/faults/fault-injector.js';
import { seededRandom } from '../../local/faults/seeded-random.js';
import { useLocalStack } from '../integration/support/local-stack-fixture.js';
import { type Frame, sleep, type TestClient } from '../integration/support/ws-client.js';
import { type Item, scanTable } from './support/table-scan.js';

/** Replays a run: `CHAOS_SEED=<seed> vitest run test/security/chaos.test.ts`. */
const SEED = Number(process.env.CHAOS_SEED ?? 20_250_605);

/** The case users hit: one browser tab each, so every connection is a user of its own. */
const USERS = 200;
const CONNECTIONS_PER_USER = 1;
const CONNECTIONS = USERS * CONNECTIONS_PER_USER;
/** 60 of 200: 30% of the users vanish without a close frame while messages flow. */
const USERS_KILLED = 60;
/** Single connections of users who keep another: none when each has one. */
const STRAYS_KILLED = 0;
const KILLED = USERS_KILLED * CONNECTIONS_PER_USER + STRAYS_KILLED;
const MESSAGES = 20;
/**
 * One publisher sending 5 a second, under RATE_LIMIT_PER_SECOND (10), as in
 * the issue that reported the storm. Before gone connections were claimed
 * once across instances, every send instance handed the 60 over, prune ran
 * many times, mostly cold, and on this 2-core machine sends averaged 9.4 s
 * and retried posts arrived twice; the test then ran at 2.5 a second.
 */
const PUBLISHERS = 1;
const SEND_EVERY_MS = 200;
/** The kills happen right before this message is sent. */
const KILL_BEFORE_MESSAGE = 5;
/** Joins in flight at once. */
const JOIN_CONCURRENCY = 20;
/** A request answered `internal` (its retries all failed) is sent again, at most this often. */
const MAX_RESENDS = 3;
/** Bound on one reply: more than a function's 15 s timeout, so a timeout shows as no reply. */
const REPLY_MS = 20_000;
/** Bound on the frames and the table settling once every send is answered. */
const SETTLE_MS = 15_000;

/**
 * Faults on every request the functions make. A post fails for good only when
 * all 6 of its attempts fail: 0.05^6 ≈ 1.6e-8, so over the 30 × 140 message
 * posts to live members a loss has a chance of about 7e-5 per run. A DynamoDB
 * call fails for good after 8 failed attempts: 0.05^8 ≈ 3.9e-11 (the request
 * is answered `internal`, which the test re-sends and counts). One call's
 * backoff is at most 1.55 s for a post and 2.6 s for DynamoDB, well inside the
 * functions' 15 s timeout less 1 s, unless the invocation itself runs long.
 * Every killed connection's `$disconnect` is lost (AWS invokes it only on a
 * best-effort basis), so pruning alone has to remove them; clean closes still
 * invoke it.
 */
const FAULTS: FaultOptions = {
  dynamoRate: 0.05,
  managementRate: 0.05,
  lostDisconnectRate: 1,
  random: seededRandom(SEED),
};

/** One connection of the run. */
interface Member {
  readonly userId: string;
  readonly client: TestClient;
  readonly connectionId: string;
}

/** The answer to one scheduled send. */
interface Sent {
  readonly index: number;
  /** The acked seq; undefined when no ack came (the function timed out). */
  readonly seq?: number;
  /** From the scheduled time to the ack. */
  readonly ackMs?: number;
  readonly failure?: string;
}

/** Polls `check` until it is true or `ms` have passed; resolves whether it became true. */
async function settles(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/** `items` in an order drawn with `random` (Fisher–Yates). */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe('chaos through the local stack, on dynalite', () => {
  const local = useLocalStack('dynalite', { faults: FAULTS });

  it(`delivers every message to every live connection while ${KILLED} of ${CONNECTIONS} vanish and requests fail, and prunes the gone ones`, async () => {
    const started = performance.now();
    const tag = randomUUID().slice(0, 8);
    const room = `chaos-${tag}`;
    const userIds = Array.from({ length: USERS }, (_, u) => `chaos-${u}-${tag}`);
    const resent = { join: 0, send: 0 };
    const members: Member[] = [];

    /** Sends `frame` until it is answered with `type`, re-sending after `internal`. */
    async function requestUntil(
      client: TestClient,
      frame: Frame,
      type: string,
      kind: keyof typeof resent,
    ): Promise<Frame> {
      for (let attempt = 1; ; attempt++) {
        const reply = await client.request(frame, REPLY_MS);
        if (reply.type === type) return reply;
        const internal = reply.type === 'error' && reply.code === 'internal';
        if (!internal || attempt > MAX_RESENDS) {
          throw new Error(`${String(frame.action)} answered ${JSON.stringify(reply)}`);
        }
        resent[kind]++;
      }
    }

    try {
      // A user's connections join one after another, users side by side.
      const [joinFailure] = await forEachBounded(userIds, JOIN_CONCURRENCY, async (userId) => {
        for (let c = 0; c < CONNECTIONS_PER_USER; c++) {
          const client = await local.connect(userId, { timeoutMs: REPLY_MS });
          const connectionId = local.connectionIdOf(client);
          await requestUntil(client, { action: 'join', room }, 'joined', 'join');
          members.push({ userId, client, connectionId });
        }
      });
      if (joinFailure !== undefined) throw joinFailure;
      const joinedAt = performance.now();

      // Publishers are the first connections of the first users, which stay.
      const publishers = userIds
        .slice(0, PUBLISHERS)
        .map((userId) => members.find((member) => member.userId === userId) as Member);
      const draw = seededRandom(SEED + 1);
      const others = shuffled(userIds.slice(PUBLISHERS), draw);
      const goneUsers = new Set(others.slice(0, USERS_KILLED));
      const strayUsers = new Set(others.slice(USERS_KILLED, USERS_KILLED + STRAYS_KILLED));
      const strays = [...strayUsers].map(
        (userId) => members.find((member) => member.userId === userId) as Member,
      );
      const killed = new Set([
        ...members.filter((member) => goneUsers.has(member.userId)),
        ...strays,
      ]);
      const live = members.filter((member) => !killed.has(member));

      const sends: Promise<Sent>[] = [];
      const t0 = Date.now();
      for (let index = 0; index < MESSAGES; index++) {
        await sleep(Math.max(0, t0 + index * SEND_EVERY_MS - Date.now()));
        if (index === KILL_BEFORE_MESSAGE) for (const member of killed) member.client.kill();
        const publisher = publishers[index % PUBLISHERS] as Member;
        sends.push(
          requestUntil(publisher.client, { action: 'send', room, data: { index } }, 'ack', 'send')
            .then(
              (ack): Sent => ({
                index,
                seq: Number(ack.seq),
                ackMs: Date.now() - t0 - index * SEND_EVERY_MS,
              }),
            )
            .catch((error: unknown): Sent => ({ index, failure: String(error).slice(0, 200) })),
        );
      }
      const answers = await Promise.all(sends);
      const sentAt = performance.now();

      // A send that got no ack may still have been delivered: its frames carry its index.
      const acked = answers.filter((sent) => sent.seq !== undefined);
      const ackedSeqs = new Set(acked.map((sent) => Number(sent.seq)));
      const messagesOf = (member: Member) =>
        member.client.frames.filter((frame) => frame.type === 'message' && frame.room === room);
      const indexOf = (frame: Frame) => (frame.data as { index: number }).index;
      const allDelivered = () =>
        live.every((member) => {
          const seqs = new Set(messagesOf(member).map((frame) => frame.seq));
          return [...ackedSeqs].every((seq) => seqs.has(seq));
        });
      await settles(allDelivered, SETTLE_MS);

      // Presence as each live page would show it: the joined reply's members,
      // then every presence frame applied in the order received (PROTOCOL.md 4.1).
      const liveUsers = [...new Set(live.map((member) => member.userId))].sort();
      const viewOf = (member: Member) => {
        const frames = member.client.frames.filter((frame) => frame.room === room);
        const reply = frames.find((frame) => frame.type === 'joined');
        const view = new Set(((reply?.members ?? []) as Frame[]).map((u) => String(u.userId)));
        for (const frame of frames) {
          if (frame.type !== 'presence') continue;
          for (const u of frame.joined as Frame[]) view.add(String(u.userId));
          for (const u of frame.left as Frame[]) view.delete(String(u.userId));
        }
        return [...view].sort();
      };
      const viewsTrue = () =>
        live.every((member) => JSON.stringify(viewOf(member)) === JSON.stringify(liveUsers));
      await settles(viewsTrue, SETTLE_MS);
      await local.stack.streamsIdle();

      const tableName = local.stack.model.tables[0]?.logicalId ?? '';
      const liveIds = new Set(live.map((member) => member.connectionId));
      const killedIds = new Set([...killed].map((member) => member.connectionId));
      const connectionIdsIn = (found: Item[]) =>
        found
          .filter((item) => String(item.sk).startsWith(CONNECTION_SK_PREFIX))
          .map((item) => String(item.connectionId));
      let items: Item[] = [];
      await settles(async () => {
        items = await scanTable(local.stack.dynamoEndpoint, tableName);
        return connectionIdsIn(items).every((id) => liveIds.has(id));
      }, SETTLE_MS);
      const settledAt = performance.now();

      // Figures, counted over live connections only: a killed one is owed nothing.
      let delivered = 0;
      let duplicates = 0;
      const ofFailedSends = new Map<number, number>();
      const missed = new Set<number>();
      for (const member of live) {
        const seen = new Set<number>();
        for (const frame of messagesOf(member)) {
          const seq = Number(frame.seq);
          if (!ackedSeqs.has(seq)) {
            ofFailedSends.set(indexOf(frame), (ofFailedSends.get(indexOf(frame)) ?? 0) + 1);
          } else if (seen.has(seq)) duplicates++;
          else delivered++;
          seen.add(seq);
        }
        for (const seq of ackedSeqs) if (!seen.has(seq)) missed.add(seq);
      }
      // A post that failed for good leaves the message to `history` (fan-out.ts): tell the two apart.
      const inHistory = new Set<number>();
      if (missed.size > 0) {
        const publisher = publishers[0] as Member;
        const reply = await publisher.client.request(
          { action: 'history', room, after: Math.min(...missed) - 1, limit: 100 },
          REPLY_MS,
        );
        for (const message of (reply.messages ?? []) as Frame[]) {
          if (missed.has(Number(message.seq))) inHistory.add(Number(message.seq));
        }
      }
      /** Departures of `userId` each live connection received. */
      const leavesOf = (userId: string) =>
        live.map(
          (member) =>
            member.client.frames.filter(
              (frame) =>
                frame.type === 'presence' &&
                (frame.left as Frame[]).some((u) => u.userId === userId),
            ).length,
        );
      const wrongViews = live.filter(
        (member) => JSON.stringify(viewOf(member)) !== JSON.stringify(liveUsers),
      );
      const presenceFrames = live.reduce(
        (sum, member) => sum + member.client.frames.filter((f) => f.type === 'presence').length,
        0,
      );
      const timedOut = local.logs.filter((line) => /timed out/i.test(line));
      const announced = [...goneUsers].filter((userId) =>
        leavesOf(userId).every((count) => count === 1),
      );
      const stillPresentAnnounced = userIds.filter(
        (userId) => !goneUsers.has(userId) && leavesOf(userId).some((count) => count > 0),
      );
      const expected = acked.length * live.length;
      const remaining = connectionIdsIn(items);
      const pruned = killed.size - remaining.filter((id) => killedIds.has(id)).length;
      const memberships = items.filter(
        (item) => item.pk === roomPk(room) && String(item.sk).startsWith(MEMBER_SK_PREFIX),
      );
      const listed = memberships.flatMap((item) => [...((item.conns as Set<string>) ?? [])]);
      const noAck = answers.filter((sent) => sent.failure !== undefined);
      const faults = local.stack.faults;
      const dynamoRetries = faults.dynamoThrottled + faults.dynamoServerErrors;
      const postRetries = faults.managementThrottled + faults.managementServerErrors;
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        [
          `chaos (seed ${SEED}): ${CONNECTIONS} connections of ${USERS} users in one room, ${KILLED} killed without a close frame (${USERS_KILLED} users entirely, ${STRAYS_KILLED} single connections)`,
          `  messages sent           ${MESSAGES}, acked ${acked.length}, no ack ${noAck.length}; slowest ack ${seconds(Math.max(...acked.map((sent) => sent.ackMs ?? 0)))}`,
          `  deliveries expected     ${expected} (${acked.length} acked × ${live.length} live connections)`,
          `  delivered               ${delivered}`,
          `  lost                    ${expected - delivered}${missed.size === 0 ? '' : ` (seqs ${[...missed].join(', ')}; in history: ${[...inHistory].join(', ') || 'none'})`}`,
          `  duplicates              ${duplicates}; frames of sends answered with an error ${[...ofFailedSends.values()].reduce((sum, n) => sum + n, 0)} (messages ${[...ofFailedSends.keys()].join(', ') || 'none'})`,
          `  pruned                  ${pruned} of ${killed.size} killed connections ($disconnect lost for ${faults.disconnectsLost})`,
          `  presence leaves         ${announced.length} of ${USERS_KILLED} gone users announced once to every live connection; ${stillPresentAnnounced.length} users still present announced`,
          `  presence views          ${live.length - wrongViews.length} of ${live.length} live pages equal to the truth; ${presenceFrames} presence frames received (v1: ${(USERS * (USERS - 1)) / 2} for the joins alone)`,
          `  timeouts                ${timedOut.length} invocations timed out`,
          `  retries                 ${dynamoRetries + postRetries}: DynamoDB ${faults.dynamoThrottled} throttled + ${faults.dynamoServerErrors} 5xx, management API ${faults.managementThrottled} 429 + ${faults.managementServerErrors} 5xx`,
          `  internal, re-sent       ${resent.join} joins, ${resent.send} sends`,
          `  duration                ${seconds(settledAt - started)}: connect and join ${seconds(joinedAt - started)}, send ${seconds(sentAt - joinedAt)}, settle ${seconds(settledAt - sentAt)}`,
        ].join('\n'),
      );

      // Soft, so that one run reports every invariant that broke.
      expect.soft(expected - delivered, 'lost deliveries to live connections').toBe(0);
      expect.soft(duplicates, 'deliveries of a seq beyond the first').toBe(0);
      expect.soft(noAck, 'sends never answered (the function timed out)').toEqual([]);
      expect.soft(ackedSeqs.size, 'each acked message has a seq of its own').toBe(acked.length);
      // PROTOCOL.md section 6: a request answered with an error has no other effect.
      expect
        .soft(Object.fromEntries(ofFailedSends), 'deliveries of sends answered with an error')
        .toEqual({});
      expect.soft(new Set(remaining), 'connection records left').toEqual(liveIds);
      expect
        .soft([...listed].sort(), 'connections listed in the room')
        .toEqual([...liveIds].sort());
      // PROTOCOL.md section 4: a leave for every user pruned as gone, none for the others.
      expect
        .soft(announced, 'gone users announced to every live connection once')
        .toEqual([...goneUsers]);
      expect.soft(stillPresentAnnounced, 'users announced gone who are not').toEqual([]);
      expect.soft(wrongViews.length, 'live pages whose member list is not the truth').toBe(0);
      expect.soft(timedOut, 'invocations that timed out').toEqual([]);
      expect(faults.disconnectsLost, '$disconnects lost').toBe(KILLED);
      expect(dynamoRetries * postRetries, 'faults of both kinds were injected').toBeGreaterThan(0);
    } finally {
      // The rest vanish the same way, so stopping the stack runs no $disconnects
      // whose presence leaves would fan out to one another after the figures are taken.
      for (const member of members) member.client.kill();
    }
  }, 120_000);
});
