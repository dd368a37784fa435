import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { type LocalStack, startLocalStack } from '../local/local-stack.js';
import { Meter, NO_INVOCATIONS } from '../local/metering/meter.js';
import { BenchClient, type BenchData } from './bench-client.js';
import { percentile, sum } from './stats.js';
import { answerHelp, forEachLimited, log, machine, round, sleep } from './support.js';

answerHelp(`
npm run bench:presence: presence and pruning as users meet them, one
connection per user: rooms filling, a room of 200 where 30% vanish without
$disconnect, and a room of 1,000 under sustained sends. Writes
bench/results/presence-latest.json.

Environment:
  BENCH_PRESENCE_FILL=100,1000   room sizes to fill
  BENCH_SUSTAINED_USERS=1000     users of the sustained room
  BENCH_SUSTAINED_S=30           seconds of sustained sends
`);

/**
 * `npm run bench:presence` (and the end of `npm run bench`): presence and
 * pruning as users meet them, one connection per user, on the default local
 * stack. Prints three tables and writes bench/results/presence-latest.json:
 *
 * - filling rooms of 100 and 1,000 users: presence posts against v1's
 *   N(N-1)/2, and how long after the last join every member's view (the
 *   joined reply's members, then each presence frame) showed the whole room;
 * - a room of 200 where 30% vanish without `$disconnect` while one publisher
 *   sends 5 a second: the send's p99 (publish to ack) against the same room
 *   calm, in the same run;
 * - a room of 1,000 receiving 2 sends a second for 30 s: delivered, refused,
 *   delivery p99, and the CPU of this whole process (the stack, its
 *   functions and the bench's own clients) per delivery.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILL_SIZES = (process.env.BENCH_PRESENCE_FILL ?? '100,1000').split(',').map(Number);
/** Users joining at once, as a burst of arrivals (each its own request). */
const JOIN_CONCURRENCY = 25;
const STORM_USERS = 200;
const STORM_VANISHED = 60;
const STORM_SENDS = 25;
const STORM_EVERY_MS = 200;
const SUSTAINED_USERS = Number(process.env.BENCH_SUSTAINED_USERS ?? 1_000);
const SUSTAINED_S = Number(process.env.BENCH_SUSTAINED_S ?? 30);
const SUSTAINED_EVERY_MS = 500;
const SETTLE_MS = 30_000;

interface FillFigures {
  readonly users: number;
  readonly presencePosts: number;
  readonly v1Posts: number;
  /** Presence posts over v1's. */
  readonly ofV1: number;
  readonly presenceInvocations: number;
  /** From the first join sent to the last join answered. */
  readonly joinsMs: number;
  /** From the last join answered until every member's view was the whole room. */
  readonly convergedAfterLastJoinMs: number;
}

interface StormFigures {
  readonly users: number;
  readonly vanished: number;
  readonly calmP50Ms: number;
  readonly calmP99Ms: number;
  readonly stormP50Ms: number;
  readonly stormP99Ms: number;
  readonly ratio: number;
  /** Messages of the storm phase owed to the live members, and those that arrived. */
  readonly owed: number;
  readonly delivered: number;
  readonly refused: number;
  /** Mean duration of the send function, calm and during the storm. */
  readonly calmSendFunctionMs: number;
  readonly stormSendFunctionMs: number;
  /** Vanished users still listed as members in any live view once settled. */
  readonly staleInViews: number;
  /**
   * Where the storm's time goes: each function's invocations and own CPU from
   * the kills until every view settled. On AWS they run on other machines; here
   * they share this machine's cores with the sends.
   */
  readonly stormFunctions: Readonly<Record<string, { invocations: number; cpuMs: number }>>;
}

interface SustainedFigures {
  readonly users: number;
  readonly sends: number;
  readonly refused: number;
  readonly owed: number;
  readonly delivered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** CPU of this process (stack, functions, bench clients) per delivery. */
  readonly cpuUsPerDelivery: number;
  /** Time in the send function and the fan-out workers, per send. */
  readonly sendFunctionMsPerSend: number;
  readonly workerMsPerSend: number;
  /** Where the time goes: */
  readonly whereTheTimeGoes: {
    /** CPU of the send function's and workers' own threads per send, and per post. */
    readonly sendCpuMsPerSend: number;
    readonly sendCpuUsPerPost: number;
    /** CPU of every function thread, as a share of the process's. */
    readonly functionsShareOfCpu: number;
    /** The process's CPU over the phase's wall time and the machine's cores. */
    readonly machineBusy: number;
    /**
     * Event-loop utilisation of the main thread, which runs the gateway, the
     * DynamoDB engine, the event source mappings and the bench's clients.
     */
    readonly mainThreadBusy: number;
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const meter = new Meter();
  const stack = await startLocalStack({
    env: {},
    meter,
    log: (line) => {
      if (/"level":"(error|warn)"|failed|timed out/i.test(line)) console.error(line);
    },
  });
  const clients: BenchClient[] = [];
  try {
    const fills: FillFigures[] = [];
    let sustainedRoom: { room: string; members: BenchClient[] } | undefined;
    for (const users of FILL_SIZES) {
      const members = await openUsers(stack, `fill${users}`, users);
      clients.push(...members);
      const room = `presence-fill-${users}`;
      fills.push(await fill(stack, meter, room, members));
      if (users === SUSTAINED_USERS) sustainedRoom = { room, members };
    }
    const stormMembers = await openUsers(stack, 'storm', STORM_USERS);
    clients.push(...stormMembers);
    const storm = await massDisconnect(stack, stormMembers, meter);
    const sustainedFigures =
      sustainedRoom === undefined
        ? undefined
        : await sustained(stack, meter, sustainedRoom.room, sustainedRoom.members);
    const result = {
      date: new Date().toISOString(),
      machine: machine(),
      engine: stack.engine,
      fills,
      storm,
      sustained: sustainedFigures,
      durationS: Math.round((Date.now() - started) / 1000),
    };
    print(result);
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'presence-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote bench/results/presence-latest.json (${result.durationS} s)`);
  } finally {
    await stack.stop({ disconnects: false });
    for (const client of clients) client.close();
  }
}

/** `count` users of one connection each, named `<prefix>-<index>`. */
async function openUsers(stack: LocalStack, prefix: string, count: number): Promise<BenchClient[]> {
  log(`opening ${count} connections of one user each (${prefix})`);
  const secret = new TextEncoder().encode(stack.secret);
  const clients: BenchClient[] = new Array(count);
  await forEachLimited(
    Array.from({ length: count }, (_, index) => index),
    JOIN_CONCURRENCY,
    async (index) => {
      const token = await new SignJWT({ name: `${prefix} ${index}` })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userOf(prefix, index))
        .setExpirationTime('2h')
        .sign(secret);
      clients[index] = await BenchClient.open(stack.url, token);
    },
  );
  return clients;
}

const userOf = (prefix: string, index: number) => `${prefix}-${index}`;

/** Each member's joined reply: its members and when it came. */
type Joined = Map<BenchClient, { at: number; members: readonly string[] }>;

/** Every member joins `room`, as a crowd arriving; presence is counted until every view is whole. */
async function fill(
  stack: LocalStack,
  meter: Meter,
  room: string,
  members: readonly BenchClient[],
): Promise<FillFigures> {
  log(`filling ${room} with ${members.length} users`);
  await stack.streamsIdle();
  meter.reset();
  const joined = await joinAll(room, members);
  const first = Math.min(...[...joined.values()].map((reply) => reply.at));
  const lastJoin = Math.max(...[...joined.values()].map((reply) => reply.at));
  const everyone = new Set([...joined.values()].flatMap((reply) => reply.members));
  const converged = await until(() => viewsWholeAt(room, members, joined, everyone), SETTLE_MS);
  await stack.streamsIdle();
  const snapshot = meter.snapshot();
  const posts = snapshot.managementCalls.POST ?? 0;
  const v1 = (members.length * (members.length - 1)) / 2;
  return {
    users: members.length,
    presencePosts: posts,
    v1Posts: v1,
    ofV1: round(posts / v1, 4),
    presenceInvocations: (snapshot.invocations.PresenceHandler ?? NO_INVOCATIONS).count,
    joinsMs: round(lastJoin - first, 1),
    convergedAfterLastJoinMs: round(Math.max(0, converged - lastJoin), 1),
  };
}

async function joinAll(room: string, members: readonly BenchClient[]): Promise<Joined> {
  const joined: Joined = new Map();
  await forEachLimited(members, JOIN_CONCURRENCY, async (client) => {
    const reply = await client.request({ action: 'join', room });
    if (reply.type !== 'joined') throw new Error(`join answered ${JSON.stringify(reply)}`);
    const ids = (reply.members as { userId: string }[]).map((user) => user.userId);
    joined.set(client, { at: performance.now(), members: ids });
  });
  return joined;
}

/**
 * When the last member's view became `truth` (undefined while one is not
 * there yet): its joined reply's members, then its presence frames applied in
 * the order received, as the client SDK does.
 */
function viewsWholeAt(
  room: string,
  members: readonly BenchClient[],
  joined: Joined,
  truth: ReadonlySet<string>,
): number | undefined {
  let latest = 0;
  for (const client of members) {
    const reply = joined.get(client);
    if (reply === undefined) continue;
    const at = wholeAt(client, room, reply, truth);
    if (at === undefined) return undefined;
    latest = Math.max(latest, at);
  }
  return latest;
}

function wholeAt(
  client: BenchClient,
  room: string,
  reply: { at: number; members: readonly string[] },
  truth: ReadonlySet<string>,
): number | undefined {
  const view = new Set(reply.members);
  const equal = () => view.size === truth.size && [...truth].every((user) => view.has(user));
  let at = equal() ? reply.at : undefined;
  for (const frame of client.presence) {
    if (frame.room !== room) continue;
    for (const user of frame.joined) view.add(user);
    for (const user of frame.left) view.delete(user);
    const whole = equal();
    if (whole && at === undefined) at = Math.max(frame.at, reply.at);
    if (!whole) at = undefined;
  }
  return at;
}

/** A room of users, calm and then with 30% vanishing: the send's p99 in both. */
async function massDisconnect(stack: LocalStack, members: readonly BenchClient[], meter: Meter) {
  const room = 'presence-storm';
  log(`mass disconnect: ${members.length} users, ${STORM_VANISHED} vanish`);
  const joined = await joinAll(room, members);
  await stack.streamsIdle();
  const publisher = members[0] as BenchClient;
  // Warm-up, not measured: at this rate the send function needs several
  // instances, and their cold starts would make the calm p99, and so the ratio, flattering.
  await sendPaced(publisher, room, 500, STORM_SENDS, STORM_EVERY_MS);
  meter.reset();
  const calm = await sendPaced(publisher, room, 0, STORM_SENDS, STORM_EVERY_MS);
  const calmSendMs = sendFunctionMs(meter, STORM_SENDS);
  meter.reset();
  const vanished = members.slice(members.length - STORM_VANISHED);
  const live = members.slice(0, members.length - STORM_VANISHED);
  const ids = connectionIdsByUser(stack);
  const prefix = 'storm';
  for (const index of vanished.keys()) {
    const id = ids.get(userOf(prefix, members.length - STORM_VANISHED + index));
    if (id === undefined || !stack.gateway.vanish(id)) throw new Error('could not drop a member');
  }
  const stormSends = await sendPaced(publisher, room, 1_000, STORM_SENDS, STORM_EVERY_MS);
  const stormSendMs = sendFunctionMs(meter, STORM_SENDS);
  const ns = new Set(Array.from({ length: STORM_SENDS }, (_, n) => 1_000 + n));
  await until(
    () => (live.every((client) => client.count('ours', ns) === ns.size) ? 0 : undefined),
    SETTLE_MS,
  );
  const truth = new Set(live.map((_, index) => userOf(prefix, index)));
  await until(() => viewsWholeAt(room, live, joined, truth), SETTLE_MS);
  const stormFunctions = Object.fromEntries(
    Object.entries(meter.snapshot().invocations).map(([name, counts]) => [
      name,
      { invocations: counts.count, cpuMs: round(counts.cpuMs, 0) },
    ]),
  );
  const staleInViews = live.filter(
    (client) =>
      wholeAt(client, room, joined.get(client) ?? { at: 0, members: [] }, truth) === undefined,
  ).length;
  const calmP99 = percentile(calm.latencies, 0.99);
  const stormP99 = percentile(stormSends.latencies, 0.99);
  return {
    users: members.length,
    vanished: STORM_VANISHED,
    calmP50Ms: round(percentile(calm.latencies, 0.5), 1),
    calmP99Ms: round(calmP99, 1),
    stormP50Ms: round(percentile(stormSends.latencies, 0.5), 1),
    stormP99Ms: round(stormP99, 1),
    ratio: round(stormP99 / calmP99, 3),
    owed: ns.size * live.length,
    delivered: live.reduce((total, client) => total + client.count('ours', ns), 0),
    refused: calm.refused + stormSends.refused,
    calmSendFunctionMs: calmSendMs,
    stormSendFunctionMs: stormSendMs,
    staleInViews,
    stormFunctions,
  } satisfies StormFigures;
}

/** Mean duration of the send function since the meter's reset. */
function sendFunctionMs(meter: Meter, sends: number): number {
  return round((meter.snapshot().invocations.SendHandler ?? NO_INVOCATIONS).totalMs / sends, 1);
}

/** The gateway's connection of each user (one each in these rooms). */
function connectionIdsByUser(stack: LocalStack): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [id, connection] of stack.gateway.connections) {
    const sub = connection.authorizer?.sub;
    if (typeof sub === 'string') ids.set(sub, id);
  }
  return ids;
}

/** `count` sends from `publisher`, one every `everyMs`: publish-to-ack latencies, sorted. */
async function sendPaced(
  publisher: BenchClient,
  room: string,
  firstN: number,
  count: number,
  everyMs: number,
): Promise<{ latencies: number[]; refused: number }> {
  const start = performance.now();
  const sends: Promise<number | undefined>[] = [];
  for (let index = 0; index < count; index++) {
    await sleep(Math.max(0, start + index * everyMs - performance.now()));
    const data: BenchData = { pattern: 'ours', n: firstN + index, t: performance.now() };
    sends.push(
      publisher.request({ action: 'send', room, data }, 60_000).then((reply) => {
        if (reply.type !== 'ack') return undefined;
        return performance.now() - data.t;
      }),
    );
  }
  const answers = await Promise.all(sends);
  const latencies = answers.filter((ms): ms is number => ms !== undefined).sort((a, b) => a - b);
  return { latencies, refused: answers.length - latencies.length };
}

/** A room receiving a send every SUSTAINED_EVERY_MS for SUSTAINED_S seconds. */
async function sustained(
  stack: LocalStack,
  meter: Meter,
  room: string,
  members: readonly BenchClient[],
): Promise<SustainedFigures> {
  const count = Math.round((SUSTAINED_S * 1000) / SUSTAINED_EVERY_MS);
  log(`sustained: ${count} sends to ${members.length} users over ${SUSTAINED_S} s`);
  await stack.streamsIdle();
  for (const client of members) client.deliveries.length = 0;
  meter.reset();
  const cpu = process.cpuUsage();
  const wallStart = performance.now();
  const loop = performance.eventLoopUtilization();
  const sent = await sendPaced(members[0] as BenchClient, room, 10_000, count, SUSTAINED_EVERY_MS);
  const ns = new Set(Array.from({ length: count }, (_, n) => 10_000 + n));
  await until(
    () => (members.every((client) => client.count('ours', ns) === ns.size) ? 0 : undefined),
    SETTLE_MS,
  );
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - wallStart;
  const mainThreadBusy = performance.eventLoopUtilization(loop).utilization;
  const latencies = members
    .flatMap((client) => client.deliveries.filter((d) => ns.has(d.n)).map((d) => d.latencyMs))
    .sort((a, b) => a - b);
  const snapshot = meter.snapshot();
  const of = (name: string) => snapshot.invocations[name] ?? NO_INVOCATIONS;
  const perSend = (name: string) => round(of(name).totalMs / count, 1);
  const processCpuMs = (used.user + used.system) / 1000;
  const functionsCpuMs = sum(Object.values(snapshot.invocations).map((counts) => counts.cpuMs));
  const sendCpuMs = of('SendHandler').cpuMs + of('FanoutHandler').cpuMs;
  return {
    users: members.length,
    sends: count,
    refused: sent.refused,
    owed: count * members.length,
    delivered: latencies.length,
    p50Ms: round(percentile(latencies, 0.5), 1),
    p99Ms: round(percentile(latencies, 0.99), 1),
    maxMs: round(latencies.at(-1) ?? Number.NaN, 1),
    cpuUsPerDelivery: round((processCpuMs * 1000) / Math.max(1, latencies.length), 1),
    sendFunctionMsPerSend: perSend('SendHandler'),
    workerMsPerSend: perSend('FanoutHandler'),
    whereTheTimeGoes: {
      sendCpuMsPerSend: round(sendCpuMs / count, 1),
      sendCpuUsPerPost: round((sendCpuMs * 1000) / (count * members.length), 1),
      functionsShareOfCpu: round(functionsCpuMs / processCpuMs, 3),
      machineBusy: round(processCpuMs / (wallMs * availableParallelism()), 3),
      mainThreadBusy: round(mainThreadBusy, 3),
    },
  };
}

/** Polls `check` until it gives a value or `ms` pass (then throws). */
async function until<T>(check: () => T | undefined, ms: number): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`not settled within ${ms} ms`);
    await sleep(50);
  }
}

function print(result: {
  fills: readonly FillFigures[];
  storm: StormFigures;
  sustained: SustainedFigures | undefined;
}): void {
  console.log('\nfill a room, one connection per user');
  console.log(
    'users  presence posts  v1 posts  of v1   presence calls  joins ms  converged after last join ms',
  );
  for (const f of result.fills) {
    console.log(
      `${pad(f.users, 5)}  ${pad(f.presencePosts, 14)}  ${pad(f.v1Posts, 8)}  ${pad(`${round(f.ofV1 * 100, 2)}%`, 6)}  ${pad(f.presenceInvocations, 14)}  ${pad(f.joinsMs, 8)}  ${pad(f.convergedAfterLastJoinMs, 28)}`,
    );
  }
  const s = result.storm;
  console.log(`\nmass disconnect: ${s.vanished} of ${s.users} users vanish without $disconnect`);
  console.log(
    `send p50/p99 calm ${s.calmP50Ms}/${s.calmP99Ms} ms, during ${s.stormP50Ms}/${s.stormP99Ms} ms (p99 ${s.ratio}×); send function ${s.calmSendFunctionMs}/${s.stormSendFunctionMs} ms; delivered ${s.delivered} of ${s.owed}; refused ${s.refused}; live views still listing a vanished user ${s.staleInViews}`,
  );
  const functions = Object.entries(s.stormFunctions)
    .map(([name, f]) => `${name} ${f.invocations}× ${f.cpuMs} ms CPU`)
    .join(', ');
  console.log(`where the storm's time goes (functions' own threads): ${functions}`);
  const t = result.sustained;
  if (t === undefined) return;
  console.log(
    `\nsustained: ${t.sends} sends to ${t.users} users, one every ${SUSTAINED_EVERY_MS} ms`,
  );
  console.log(
    `delivered ${t.delivered} of ${t.owed}; refused ${t.refused}; latency p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms, max ${t.maxMs} ms; CPU ${t.cpuUsPerDelivery} µs per delivery; send function ${t.sendFunctionMsPerSend} ms and workers ${t.workerMsPerSend} ms per send`,
  );
  const w = t.whereTheTimeGoes;
  const percent = (share: number) => `${round(share * 100, 1)}%`;
  console.log(
    `where the time goes: the machine's ${availableParallelism()} cores ${percent(w.machineBusy)} busy; the main thread (gateway, DynamoDB engine, the ${t.users} clients) ${percent(w.mainThreadBusy)} busy; function threads ${percent(w.functionsShareOfCpu)} of the CPU; the send's own threads ${w.sendCpuMsPerSend} ms CPU per send (${w.sendCpuUsPerPost} µs per post)`,
  );
}

const pad = (value: unknown, width: number) => String(value).padStart(width);

await main();
