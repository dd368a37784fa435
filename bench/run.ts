import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SignJWT } from 'jose';
import {
  CONNECTION_TTL_S,
  connectionSk,
  epochSeconds,
  memberSk,
  roomPk,
  sweepShardKey,
  sweepShardOf,
  userPk,
} from '../lambdas/adapters/table-keys.js';
import { DEFAULT_FAN_OUT_CHUNK_SIZE } from '../lambdas/shared/config.js';
import { synthesizeApp } from '../lib/realtime-app.js';
import { localDynamoClient } from '../local/dynamo/client.js';
import { type LocalStack, startLocalStack } from '../local/local-stack.js';
import { Meter, type MeterSnapshot, NO_INVOCATIONS } from '../local/metering/meter.js';
import { BenchClient, type BenchData } from './bench-client.js';
import { coldStarts } from './cold-start.js';
import { costPerMillionSends, PRICES, type SendCost } from './cost-model.js';
import { type MeasuredSend, MODELLED_MEMORY_MB, modelSend } from './lambda-cpu-model.js';
import { mean, percentile, sum } from './stats.js';
import { answerHelp, forEachLimited, log, machine, round, sleep } from './support.js';

answerHelp(`
npm run bench: our send against the reference pattern on the local stack, for
rooms of 10 to 5,000 members in tables of 1,000 and 10,000 connections, with
the AWS calls, DynamoDB units, latencies and dollars per million sends of each,
and each send modelled on Lambda at 256 to 1,769 MB. Writes
bench/results/latest.json (a partial run: partial.json), then runs the
presence bench.

Environment:
  BENCH_ROOMS=10,100     room sizes (a partial run)
  BENCH_TABLES=1000      table sizes in connections (a partial run)
  BENCH_SENDS=20         measured sends per row and pattern
  FAN_OUT_CHUNK_SIZE=n   connections per fan-out worker's share
  DYNAMODB_ENGINE=dynamodb-local   the engine (default dynalite)
`);

/**
 * `npm run bench`: our `send` against the reference pattern (the AWS sample's
 * whole-table Scan and unbounded Promise.all, deployed as the `refsend`
 * route) on the same local stack, over the same data, with real WebSocket
 * clients in this process (one clock). Prints a table and writes
 * bench/results/latest.json and a dated copy.
 */

/** `BENCH_ROOMS=1000 BENCH_TABLES=1000` runs one row, for a quick look. */
const listOf = (value: string | undefined, fallback: number[]) =>
  value === undefined ? fallback : value.split(',').map(Number);
const ROOM_SIZES = listOf(process.env.BENCH_ROOMS, [10, 100, 1_000, 5_000]);
const TABLE_SIZES = listOf(process.env.BENCH_TABLES, [1_000, 10_000]);
/** A partial run writes bench/results/partial.json (ignored by git) and skips the cold starts. */
const PARTIAL = process.env.BENCH_ROOMS !== undefined || process.env.BENCH_TABLES !== undefined;
/** Connections per fan-out share (the stack's FAN_OUT_CHUNK_SIZE); its default unless set. */
const FAN_OUT_CHUNK_SIZE = Number(process.env.FAN_OUT_CHUNK_SIZE ?? DEFAULT_FAN_OUT_CHUNK_SIZE);
/** Measured sends per row and pattern, on a fixed schedule. */
const SENDS = Number(process.env.BENCH_SENDS ?? 20);
/**
 * Deliveries each pattern's p99 is taken from, at least: a room of 10 gets 100
 * sends, so its p99 is the 10th-highest of 1,000 latencies, not the 2nd of 200.
 */
const MIN_DELIVERIES = 1_000;
/** Fewer for rooms above JOINED_ROOM_LIMIT, whose sends are spaced 10 s or more apart. */
const sendsFor = (members: number) =>
  members > JOINED_ROOM_LIMIT
    ? Math.min(SENDS, 10)
    : Math.max(SENDS, Math.ceil(MIN_DELIVERIES / members));
/**
 * Rooms up to this size are entered with real `join`s. Larger ones get their
 * membership records written directly, as `join` writes them: each user's
 * first join is announced to everyone already in, so 500 users joining a room
 * of 5,000 connections would cost the setup 1.25 million presence posts.
 */
const JOINED_ROOM_LIMIT = 1_000;
/**
 * Time between sends: 200 ms, or 2 ms per member for larger rooms. The local
 * stack, the bench's clients and the meter share this machine's cores; sends
 * any closer would measure the queue behind a saturated machine, not a send.
 */
const intervalFor = (members: number) => Math.max(200, members * 2);
const DELIVERY_TIMEOUT_MS = 30_000;
const OPEN_CONCURRENCY = 25;
/**
 * Connections per user (MAX_CONNECTIONS_PER_USER): a room of 1,000 members is
 * 100 users with 10 connections each. Each user's first join is announced to
 * the whole room, so 1,000 distinct users would cost the setup half a million
 * presence posts, none of them measured.
 */
const CONNECTIONS_PER_USER = 10;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Pattern = BenchData['pattern'];

interface PatternFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Mean over messages of the time until the last member had it. */
  readonly lastMemberMs: number;
  readonly deliveryRatio: number;
  readonly readUnitsPerSend: number;
  readonly writeUnitsPerSend: number;
  readonly dynamoCallsPerSend: Readonly<Record<string, number>>;
  readonly managementCallsPerSend: number;
  /** Duration of the send function (ours) or the reference function. */
  readonly lambdaMsPerSend: number;
  /** Fan-out workers invoked per send, and their summed duration per send. */
  readonly workerInvocationsPerSend: number;
  readonly workerMsPerSend: number;
  /** Mean CPU time (the invocation's own thread's) of one invocation of the function, and of one worker. */
  readonly lambdaCpuMsPerInvocation: number;
  readonly workerCpuMsPerInvocation: number;
  readonly costPerMillionSends: SendCost;
  /** The same send on Lambda at each modelled memory size, its CPU work at Lambda's share (lambda-cpu-model.ts). */
  readonly onLambda: readonly LambdaFigures[];
}

/** A send modelled on Lambda with its functions at `memoryMb`. */
interface LambdaFigures {
  readonly memoryMb: number;
  readonly handlerMs: number;
  readonly lastMemberMs: number;
  readonly gbSecondsPerSend: number;
  readonly costPerMillionSends: number;
}

interface Row {
  readonly tableConnections: number;
  readonly roomMembers: number;
  readonly ours: PatternFigures;
  readonly reference: PatternFigures;
  /** ours / reference, for each latency and unit figure. */
  readonly ratio: Readonly<Record<string, number>>;
}

async function main(): Promise<void> {
  const started = Date.now();
  const assembly = mkdtempSync(join(tmpdir(), 'realtime-bench-'));
  log('synthesizing with REFERENCE_HANDLER=true');
  synthesizeApp(assembly, {
    env: {
      REFERENCE_HANDLER: 'true',
      MAX_ROOMS_PER_CONNECTION: '100',
      FAN_OUT_CHUNK_SIZE: String(FAN_OUT_CHUNK_SIZE),
    },
  });
  symlinkSync(join(ROOT, 'node_modules'), join(assembly, 'node_modules'), 'dir');
  const meter = new Meter();
  let tearingDown = false;
  const stack = await startLocalStack({
    assembly,
    env: {},
    meter,
    engine: process.env.DYNAMODB_ENGINE === 'dynamodb-local' ? 'dynamodb-local' : 'dynalite',
    log: (line) => {
      if (!tearingDown && /"level":"(error|warn)"|failed/i.test(line)) console.error(line);
    },
  });
  const clients: BenchClient[] = [];
  try {
    const rows: Row[] = [];
    let filler = 0;
    for (const tableConnections of [...TABLE_SIZES].sort((a, b) => a - b)) {
      // Only the rooms that fit in the table; their members are the table's live connections.
      const roomSizes = ROOM_SIZES.filter((size) => size <= tableConnections);
      const needed = Math.max(0, ...roomSizes);
      if (needed > clients.length) {
        log(`opening ${needed - clients.length} more connections`);
        clients.push(...(await openClients(stack, clients.length, needed)));
      }
      const wanted = tableConnections - clients.length;
      await writeFiller(stack, filler, wanted);
      filler = Math.max(filler, wanted);
      for (const roomMembers of roomSizes) {
        log(`table ${tableConnections} connections, room ${roomMembers} members`);
        rows.push(await measureRow(stack, meter, clients, tableConnections, roomMembers));
      }
    }
    const result = {
      date: new Date().toISOString(),
      machine: machine(),
      engine: stack.engine,
      sendsPerRow: Object.fromEntries(ROOM_SIZES.map((size) => [size, sendsFor(size)])),
      intervalMs: Object.fromEntries(ROOM_SIZES.map((size) => [size, intervalFor(size)])),
      fanOutChunkSize: FAN_OUT_CHUNK_SIZE,
      prices: PRICES,
      rows,
      coldStarts: PARTIAL ? [] : await coldStarts(stack.model),
      durationS: Math.round((Date.now() - started) / 1000),
    };
    print(result.rows);
    printOnLambda(result.rows);
    printColdStarts(result.coldStarts);
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const text = `${JSON.stringify(result, null, 2)}\n`;
    if (PARTIAL) {
      writeFileSync(join(dir, 'partial.json'), text);
    } else {
      writeFileSync(join(dir, 'latest.json'), text);
      writeFileSync(join(dir, `bench-${result.date.slice(0, 10)}.json`), text);
    }
    log(`wrote bench/results/${PARTIAL ? 'partial' : 'latest'}.json (${result.durationS} s)`);
  } finally {
    // Every member leaving a room of thousands at once would take minutes of
    // `$disconnect`s (each user's last connection announces a leave to the
    // room), none of them measured: the stack stops without them.
    tearingDown = true;
    await stack.stop({ disconnects: false });
    for (const client of clients) client.close();
    rmSync(assembly, { recursive: true, force: true });
  }
}

/** One row: our send and the reference's, `sendsFor(roomMembers)` times each, on the same room. */
async function measureRow(
  stack: LocalStack,
  meter: Meter,
  clients: readonly BenchClient[],
  tableConnections: number,
  roomMembers: number,
): Promise<Row> {
  const room = `bench-${tableConnections}-${roomMembers}`;
  const members = clients.slice(0, roomMembers);
  if (roomMembers > JOINED_ROOM_LIMIT) {
    await writeMembership(stack, room, roomMembers / CONNECTIONS_PER_USER);
  } else {
    await forEachLimited(members, OPEN_CONCURRENCY, async (client) => {
      const reply = await client.request({ action: 'join', room });
      if (reply.type !== 'joined') throw new Error(`join answered ${JSON.stringify(reply)}`);
    });
  }
  const figures = await measurePatterns(stack, meter, members, room);
  const { ours, reference } = figures;
  const ratio: Record<string, number> = {};
  for (const key of ['p50Ms', 'p99Ms', 'maxMs', 'lastMemberMs'] as const) {
    ratio[key] = round(ours[key] / reference[key], 3);
  }
  ratio.readUnitsPerSend = round(ours.readUnitsPerSend / reference.readUnitsPerSend, 3);
  ratio.costPerMillionSends = round(
    ours.costPerMillionSends.total / reference.costPerMillionSends.total,
    3,
  );
  return { tableConnections, roomMembers, ours, reference, ratio };
}

const PATTERNS: readonly Pattern[] = ['ours', 'reference'];
/** Sends per pattern in the counting pass: calls and units are the same for every send. */
const COUNTED_SENDS = 3;

/**
 * Both patterns on one room. Latency comes from one schedule on which ours
 * and the reference's sends alternate, so both meet the same machine (its
 * garbage collections, its other work) instead of one running after the
 * other. Calls and units come from a second, sequential pass per pattern,
 * because the meter cannot tell whose DynamoDB request it saw.
 */
async function measurePatterns(
  stack: LocalStack,
  meter: Meter,
  members: readonly BenchClient[],
  room: string,
): Promise<Record<Pattern, PatternFigures>> {
  const publisher = members[0] as BenchClient;
  const publish = async (pattern: Pattern, n: number) => {
    const data: BenchData = { pattern, n, t: performance.now() };
    if (pattern === 'ours') {
      const reply = await publisher.request({ action: 'send', room, data });
      if (reply.type !== 'ack') throw new Error(`send answered ${JSON.stringify(reply)}`);
    } else {
      publisher.send({ action: 'refsend', room, data });
    }
  };
  const clear = () => {
    for (const client of members) client.deliveries.length = 0;
  };

  // Warm-up, not measured: cold starts belong to the cold-start figures.
  const warm = new Set([-2, -1]);
  for (const pattern of PATTERNS) {
    for (const n of warm) await publish(pattern, n);
    await allDelivered(members, pattern, warm);
  }
  clear();

  const count = sendsFor(members.length);
  const measured = new Set(Array.from({ length: count }, (_, n) => n));
  meter.reset();
  const schedule = performance.now();
  const sends: Promise<void>[] = [];
  for (let slot = 0; slot < 2 * count; slot++) {
    const due = schedule + slot * intervalFor(members.length);
    await sleep(Math.max(0, due - performance.now()));
    sends.push(publish(PATTERNS[slot % 2] as Pattern, Math.floor(slot / 2)));
  }
  await Promise.all(sends);
  for (const pattern of PATTERNS) await allDelivered(members, pattern, measured);
  // Posts finish before the handler returns; the invocation is metered on return.
  await sleep(200);
  const timing = meter.snapshot();
  const deliveries = members.map((client) => [...client.deliveries]);
  clear();

  const counted = new Set(Array.from({ length: COUNTED_SENDS }, (_, n) => 1_000 + n));
  const calls = {} as Record<Pattern, MeterSnapshot>;
  for (const pattern of PATTERNS) {
    meter.reset();
    for (const n of counted) {
      await publish(pattern, n);
      await allDelivered(members, pattern, new Set([n]));
    }
    await sleep(200);
    calls[pattern] = meter.snapshot();
  }
  clear();

  const figuresOf = (pattern: Pattern): PatternFigures => {
    const latencies = deliveries
      .flatMap((list) => list.filter((d) => d.pattern === pattern))
      .map((d) => d.latencyMs)
      .sort((a, b) => a - b);
    const lastPerMessage = [...measured].map((n) =>
      Math.max(
        ...deliveries.flatMap((list) =>
          list.filter((d) => d.pattern === pattern && d.n === n).map((d) => d.latencyMs),
        ),
      ),
    );
    const counts = calls[pattern];
    const perSend = (value: number) => round(value / COUNTED_SENDS, 3);
    const handler = pattern === 'ours' ? 'SendHandler' : 'ReferenceSendHandler';
    const invocations = timing.invocations[handler] ?? NO_INVOCATIONS;
    const memoryMb = [...stack.model.functions.values()].find(
      (fn) => fn.name === handler,
    )?.memoryMb;
    const dynamoCallsPerSend = Object.fromEntries(
      Object.entries(counts.dynamoCalls).map(([operation, calls]) => [operation, perSend(calls)]),
    );
    const lambdaMsPerSend = invocations.count > 0 ? invocations.totalMs / invocations.count : 0;
    // Large rooms' shares posted by the fan-out workers are billed too.
    const workers = (pattern === 'ours' && timing.invocations.FanoutHandler) || NO_INVOCATIONS;
    const billed = {
      count: invocations.count + workers.count,
      totalMs: invocations.totalMs + workers.totalMs,
    };
    const bill = {
      deliveries: members.length,
      frameBytes: publisher.frameBytes,
      requestBytes: Buffer.byteLength(
        JSON.stringify({ action: 'send', room, data: { pattern, n: 0, t: 0 }, id: 'b1' }),
      ),
      replies: pattern === 'ours' ? 1 : 0,
      readUnits: counts.readUnits / COUNTED_SENDS,
      writeUnits: counts.writeUnits / COUNTED_SENDS,
    };
    const cost = costPerMillionSends({
      ...bill,
      lambdaInvocations: billed.count / count,
      lambdaMs: billed.count > 0 ? billed.totalMs / billed.count : 0,
      lambdaMemoryMb: memoryMb ?? 256,
    });
    const meanOf = (counts: typeof invocations, of: 'totalMs' | 'cpuMs') =>
      counts.count > 0 ? counts[of] / counts.count : 0;
    const measuredSend: MeasuredSend = {
      handler: {
        perSend: invocations.count / count,
        wallMs: meanOf(invocations, 'totalMs'),
        cpuMs: meanOf(invocations, 'cpuMs'),
      },
      workers: {
        perSend: workers.count / count,
        wallMs: meanOf(workers, 'totalMs'),
        cpuMs: meanOf(workers, 'cpuMs'),
      },
      lastMemberMs: mean(lastPerMessage),
      bill,
    };
    return {
      p50Ms: round(percentile(latencies, 0.5), 1),
      p99Ms: round(percentile(latencies, 0.99), 1),
      maxMs: round(latencies.at(-1) ?? Number.NaN, 1),
      lastMemberMs: round(mean(lastPerMessage), 1),
      deliveryRatio: round(latencies.length / (count * members.length), 4),
      readUnitsPerSend: perSend(counts.readUnits),
      writeUnitsPerSend: perSend(counts.writeUnits),
      dynamoCallsPerSend,
      managementCallsPerSend: perSend(managementCalls(counts)),
      lambdaMsPerSend: round(lambdaMsPerSend, 1),
      workerInvocationsPerSend: round(workers.count / count, 3),
      workerMsPerSend: round(workers.totalMs / count, 1),
      lambdaCpuMsPerInvocation: round(measuredSend.handler.cpuMs, 2),
      workerCpuMsPerInvocation: round(measuredSend.workers.cpuMs, 2),
      costPerMillionSends: roundCost(cost),
      onLambda: MODELLED_MEMORY_MB.map((memory) => {
        const modelled = modelSend(measuredSend, memory);
        return {
          memoryMb: memory,
          handlerMs: round(modelled.handlerMs, 1),
          lastMemberMs: round(modelled.lastMemberMs, 1),
          gbSecondsPerSend: round(modelled.gbSecondsPerSend, 6),
          costPerMillionSends: round(modelled.cost.total, 4),
        };
      }),
    };
  };
  return { ours: figuresOf('ours'), reference: figuresOf('reference') };
}

/** Waits until every member has every message in `ns` of `pattern`, or the timeout passes. */
async function allDelivered(
  members: readonly BenchClient[],
  pattern: Pattern,
  ns: ReadonlySet<number>,
): Promise<void> {
  const until = performance.now() + DELIVERY_TIMEOUT_MS;
  while (performance.now() < until) {
    if (members.every((client) => client.count(pattern, ns) >= ns.size)) return;
    await sleep(20);
  }
}

/** Opens clients `from` to `to` (exclusive); client i belongs to user i / CONNECTIONS_PER_USER. */
async function openClients(stack: LocalStack, from: number, to: number): Promise<BenchClient[]> {
  const secret = new TextEncoder().encode(stack.secret);
  const clients: BenchClient[] = new Array(to - from);
  await forEachLimited(
    Array.from({ length: to - from }, (_, offset) => from + offset),
    OPEN_CONCURRENCY,
    async (index) => {
      const user = Math.floor(index / CONNECTIONS_PER_USER);
      const token = await new SignJWT({ name: `Bench ${user}` })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`bench-user-${user}`)
        .setExpirationTime('2h')
        .sign(secret);
      clients[index - from] = await BenchClient.open(stack.url, token);
    },
  );
  return clients;
}

/**
 * Puts the first `users` bench users' open connections in `room` with the
 * records `join` writes: a membership record per user listing their
 * connections, and the room added to each connection record.
 */
async function writeMembership(stack: LocalStack, room: string, users: number): Promise<void> {
  log(`writing the membership of ${users} users in ${room}`);
  const byUser = new Map<string, string[]>();
  for (const [connectionId, connection] of stack.gateway.connections) {
    const sub = connection.authorizer?.sub;
    const index = typeof sub === 'string' ? Number(sub.replace('bench-user-', '')) : Number.NaN;
    if (!(index < users)) continue;
    byUser.set(sub as string, [...(byUser.get(sub as string) ?? []), connectionId]);
  }
  const tableName = stack.model.tables[0]?.logicalId ?? '';
  const client = DynamoDBDocumentClient.from(localDynamoClient(stack.dynamoEndpoint));
  const expiresAt = epochSeconds(Date.now()) + CONNECTION_TTL_S;
  try {
    await forEachLimited([...byUser], OPEN_CONCURRENCY, async ([userId, connectionIds]) => {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: roomPk(room),
            sk: memberSk(userId),
            userId,
            name: `Bench ${userId.replace('bench-user-', '')}`,
            conns: new Set(connectionIds),
            expiresAt,
          },
        }),
      );
      for (const connectionId of connectionIds) {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: userPk(userId), sk: connectionSk(connectionId) },
            UpdateExpression: 'ADD rooms :room',
            ExpressionAttributeValues: { ':room': new Set([room]) },
          }),
        );
      }
    });
  } finally {
    client.destroy();
  }
}

/**
 * Adds connection records, as `$connect` writes them, for connections outside
 * every measured room: they make the table hold as many connections as the
 * row says. Ours never reads them; the reference's Scan reads every one.
 */
async function writeFiller(stack: LocalStack, from: number, to: number): Promise<void> {
  if (to <= from) return;
  log(`writing ${to - from} more connection records`);
  const tableName = stack.model.tables[0]?.logicalId ?? '';
  const client = DynamoDBDocumentClient.from(localDynamoClient(stack.dynamoEndpoint));
  const now = Date.now();
  try {
    for (let start = from; start < to; start += 25) {
      const items = Array.from({ length: Math.min(25, to - start) }, (_, offset) => {
        const index = start + offset;
        const connectionId = `Filler${String(index).padStart(9, '0')}=`;
        return {
          PutRequest: {
            Item: {
              pk: userPk(`filler-${index}`),
              sk: connectionSk(connectionId),
              connectionId,
              userId: `filler-${index}`,
              name: `Filler ${index}`,
              connectedAt: now,
              expiresAt: epochSeconds(now) + CONNECTION_TTL_S,
              sweepShard: sweepShardKey(sweepShardOf(connectionId)),
              rooms: new Set([`elsewhere-${index % 50}`]),
            },
          },
        };
      });
      await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: items } }));
    }
  } finally {
    client.destroy();
  }
}

function managementCalls(counts: MeterSnapshot): number {
  return Object.values(counts.managementCalls).reduce((sum, calls) => sum + calls, 0);
}

function print(rows: readonly Row[]): void {
  const header = [
    'table',
    'room',
    'pattern',
    'p50 ms',
    'p99 ms',
    'max ms',
    'last ms',
    'delivered',
    'RCU/send',
    'WCU/send',
    'DDB calls',
    'posts',
    'workers',
    '$/M sends',
    'x floor',
  ];
  const lines = [header];
  for (const row of rows) {
    for (const pattern of ['ours', 'reference'] as const) {
      const f = row[pattern];
      lines.push([
        String(row.tableConnections),
        String(row.roomMembers),
        pattern,
        String(f.p50Ms),
        String(f.p99Ms),
        String(f.maxMs),
        String(f.lastMemberMs),
        `${round(f.deliveryRatio * 100, 2)}%`,
        String(f.readUnitsPerSend),
        String(f.writeUnitsPerSend),
        String(round(sum(Object.values(f.dynamoCallsPerSend)), 2)),
        String(f.managementCallsPerSend),
        String(f.workerInvocationsPerSend),
        f.costPerMillionSends.total.toFixed(2),
        f.costPerMillionSends.overFloor.toFixed(2),
      ]);
    }
    lines.push([
      '',
      '',
      'ours/ref',
      String(row.ratio.p50Ms),
      String(row.ratio.p99Ms),
      String(row.ratio.maxMs),
      String(row.ratio.lastMemberMs),
      '',
      String(row.ratio.readUnitsPerSend),
      '',
      '',
      '',
      '',
      String(row.ratio.costPerMillionSends),
      '',
    ]);
  }
  const widths = header.map((_, column) =>
    Math.max(...lines.map((line) => line[column]?.length ?? 0)),
  );
  console.log(
    lines.map((line) => line.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ')).join('\n'),
  );
}

/** Our send modelled on Lambda at each memory size: the last member's wait and the bill. */
function printOnLambda(rows: readonly Row[]): void {
  console.log(
    '\nours on Lambda, modelled (CPU at memory/1769 MB of a vCPU): last member ms / $ per million sends',
  );
  console.log(
    ['table', 'room', ...MODELLED_MEMORY_MB.map((memory) => `${memory} MB`)]
      .map((cell) => cell.padStart(18))
      .join(''),
  );
  for (const row of rows) {
    const cells = row.ours.onLambda.map(
      (at) => `${at.lastMemberMs} / ${at.costPerMillionSends.toFixed(2)}`,
    );
    console.log(
      [String(row.tableConnections), String(row.roomMembers), ...cells]
        .map((cell) => cell.padStart(18))
        .join(''),
    );
  }
}

function printColdStarts(rows: Awaited<ReturnType<typeof coldStarts>>): void {
  console.log('\ncold start: bundle size and import time in a fresh Node process (median)');
  for (const row of rows) {
    console.log(
      `  ${row.function.padEnd(22)} ${String(row.bytes).padStart(8)} bytes  ${String(row.importMs).padStart(6)} ms` +
        (row.runtimeSdkImportMs === undefined
          ? ''
          : `   (SDK from the runtime instead: ${row.runtimeSdkImportMs} ms)`),
    );
  }
}

function roundCost(cost: SendCost): SendCost {
  return Object.fromEntries(
    Object.entries(cost).map(([key, value]) => [key, round(value, 4)]),
  ) as unknown as SendCost;
}

await main();
