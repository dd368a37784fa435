import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../integration/support/local-stack-fixture.js';
import { mintToken, nowSeconds, unsignedToken } from '../integration/support/tokens.js';
import {
  type Frame,
  sleep,
  type TestClient,
  WAIT_MS,
  within,
} from '../integration/support/ws-client.js';
import { FrameOracle, type KnownConnection, UNASKED } from './support/frame-oracle.js';
import { frameArbitrary } from './support/frames.js';
import { expectOnlyWhatWasDone } from './support/table-invariants.js';
import { scanTable } from './support/table-scan.js';

/** Replays a run: `FUZZ_SEED=<seed> vitest run test/security/fuzz.test.ts`; FUZZ_RUNS for more. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_605);
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** Bound on a reply: a hang past it fails the property. */
const REPLY_MS = WAIT_MS;
/** At most 8 frames a second per connection: under RATE_LIMIT_PER_SECOND, so most are processed. */
const PACE_MS = 125;
const MAX_DATA_BYTES = 16_384;

/** A connection frames are thrown from. */
interface Attacker extends KnownConnection {
  readonly label: string;
  readonly client: TestClient;
  lastSentAt: number;
}

/** The attackers' users: the `rooms` claim as `/dev/token` takes it; no token allows `vault-*`. */
const USERS = [
  { key: 'a', name: 'Mallory \u202e💥', rooms: 'fz-*' },
  { key: 'b', name: 'Trudy', rooms: 'fz-a,fz-b' },
  { key: 'c', name: 'Eve', rooms: '' },
] as const;
/** Connections by label; the first letter names the user. */
const CONNECTIONS = ['a1', 'a2', 'b1', 'c1', 'a3'] as const;

describe('arbitrary frames at every route, on dynalite', () => {
  const local = useLocalStack('dynalite');

  it(`answers each with a protocol error or a valid reply, reaches nobody else and stores nothing it should not (${NUM_RUNS} runs)`, async () => {
    const started = performance.now();
    const tag = randomUUID().slice(0, 8);
    const vault = `vault-${tag}`;
    const observerId = `observer-${tag}`;
    const userId = (key: string) => `attacker-${key}-${tag}`;

    // Another user, in a room no attacker's token allows, there before any attacker.
    const observer = await local.joined({ sub: observerId, name: 'Observer' }, vault);

    const validTokens = new Map<string, { sub: string; exp: number }>();
    const attackers: Attacker[] = [];
    for (const label of CONNECTIONS) {
      const spec = USERS.find((candidate) => label.startsWith(candidate.key));
      if (spec === undefined) throw new Error(`no user for ${label}`);
      const sub = userId(spec.key);
      const token = await local.token({ sub, name: spec.name, rooms: spec.rooms });
      validTokens.set(token, { sub, exp: decodeJwt(token).exp ?? 0 });
      const client = await local.connectWith(token);
      attackers.push({
        label,
        user: { userId: sub, name: spec.name },
        claim: spec.rooms === '' ? [] : spec.rooms.split(','),
        client,
        rooms: new Set(),
        connectionId: local.connectionIdOf(client),
        lastSentAt: 0,
      });
    }
    const oracle = new FrameOracle(attackers, validTokens, MAX_DATA_BYTES);
    const secret = local.stack.secret;
    const frame = frameArbitrary({
      userIds: [...new Set(attackers.map((attacker) => attacker.user.userId))],
      tokens: [
        ...validTokens.keys(),
        await mintToken(secret, { sub: userId('a'), exp: nowSeconds() - 120 }),
        unsignedToken(userId('a')),
        await mintToken('not-the-secret', { sub: userId('b') }),
        'garbage',
      ],
      forbiddenRoom: vault,
    });

    const tally = new Map<string, number>();
    const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

    /** Resolves once every frame sent so far has been routed and answered. */
    const quiet = () => within(local.stack.gateway.idle(), REPLY_MS, 'the gateway to be idle');

    /**
     * The answer to a frame that may have none: whatever it got once the
     * gateway has routed and answered it and the frames sent before have arrived.
     */
    async function answerOrSilence(client: TestClient, answers: (frame: Frame) => boolean) {
      await quiet();
      return client.takeArrived(answers);
    }

    /** Sends one frame and checks what answers it; one frame is in flight at a time. */
    async function exchange(attacker: Attacker, text: string): Promise<void> {
      const expected = oracle.predict(text, attacker);
      const wait = attacker.lastSentAt + PACE_MS - Date.now();
      if (wait > 0) await sleep(wait);
      attacker.lastSentAt = Date.now();
      attacker.client.sendRaw(text);
      const answers = (frame: Frame) =>
        !UNASKED.has(String(frame.type)) || expected.confirm?.(frame) === true;
      const answer = expected.silent
        ? await answerOrSilence(attacker.client, answers)
        : await attacker.client.next(answers, REPLY_MS).catch(() => undefined);
      const shown = text.length > 300 ? `${text.slice(0, 300)}…` : text;
      if (answer === undefined) {
        expect(
          expected.silent,
          `no answer within ${REPLY_MS} ms to ${attacker.label}: ${shown}`,
        ).toBe(true);
        count('(no reply)');
      } else if (UNASKED.has(String(answer.type))) {
        expected.onConfirm?.();
        count(`(no reply, own ${answer.type})`);
      } else if (answer.type === 'error') {
        oracle.expectProtocolError(answer, expected);
        count(`error ${String(answer.code)}`);
      } else {
        const reply = expected.reply;
        expect(reply, `${attacker.label} got ${JSON.stringify(answer)} for ${shown}`).toBeDefined();
        reply?.(answer);
        count(String(answer.type));
      }
      expect(attacker.client.isOpen, `${attacker.label} was closed by ${shown}`).toBe(true);
    }

    // One request of each route first, so that no answer waits on a cold start.
    for (const attacker of attackers.slice(0, 2)) {
      for (const warm of [
        { action: 'ping', id: 'warm' },
        { action: 'join', room: 'fz-a', id: 'warm' },
        { action: 'send', room: 'fz-a', data: 'warm', id: 'warm' },
        { action: 'typing', room: 'fz-a' },
        { action: 'history', room: 'fz-a', id: 'warm' },
        { action: 'direct', to: 'nobody', data: 'warm', id: 'warm' },
        { action: 'auth', token: 'garbage', id: 'warm' },
        { action: 'leave', room: 'fz-b', id: 'warm' },
        { action: 'warm', id: 'warm' },
      ]) {
        await exchange(attacker, JSON.stringify(warm));
      }
    }

    const steps = fc.array(fc.tuple(fc.nat({ max: attackers.length - 1 }), frame), {
      minLength: 1,
      maxLength: 3,
    });
    let frames = 0;
    try {
      await fc.assert(
        fc.asyncProperty(steps, async (run) => {
          for (const [index, text] of run) {
            const attacker = attackers[index];
            if (attacker === undefined) throw new Error(`no attacker ${index}`);
            frames++;
            await exchange(attacker, text);
          }
        }),
        // Shrinking would replay frames against a stack whose state has moved on,
        // and could outlast the timeout: the first counterexample is reported as found.
        { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true, includeErrorInReport: true },
      );
    } catch (error) {
      const report = (error as Error).message
        .split('\n')
        .map((line) => (line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line))
        .join('\n');
      throw new Error(`fuzz failed with seed ${SEED} (replay: FUZZ_SEED=${SEED}):\n${report}`, {
        cause: error,
      });
    }

    // A late answer would have been taken for another frame's: none may be left over.
    await local.settled();
    await quiet();
    await Promise.all(attackers.map((attacker) => attacker.client.flush()));
    for (const attacker of attackers) {
      expect(attacker.client.isOpen).toBe(true);
      for (const unasked of attacker.client.untaken()) oracle.expectUnasked(unasked);
    }
    await observer.expectNothingReceived();
    expect(observer.frames.map((received) => received.type)).toEqual(['joined']);

    const endpoint = local.stack.dynamoEndpoint;
    const items = await scanTable(endpoint, local.stack.model.tables[0]?.logicalId ?? '');
    expectOnlyWhatWasDone(
      items,
      [
        ...attackers,
        {
          connectionId: local.connectionIdOf(observer),
          user: { userId: observerId, name: 'Observer' },
          claim: null,
          rooms: new Set([vault]),
        },
      ],
      oracle,
    );

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const outcomes = [...tally].sort(([, x], [, y]) => y - x).map(([key, n]) => `${key} ${n}`);
    console.log(
      `fuzz: seed ${SEED}, ${NUM_RUNS} runs, ${frames} frames in ${seconds} s, ${items.length} items checked; ${outcomes.join(', ')}`,
    );
  }, 120_000);
});
