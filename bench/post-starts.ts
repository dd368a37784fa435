import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { forEachBounded } from '../lambdas/domain/concurrency.js';
import { FAN_OUT_CONCURRENCY, FAN_OUT_GROUP } from '../lambdas/domain/fan-out.js';
import { createNotifier } from '../lambdas/handlers/clients.js';
import { median } from './stats.js';
import { answerHelp } from './support.js';

answerHelp(`
npm run bench:posts: the CPU and wall time per post of a fan-out starting its
posts one per completion against FAN_OUT_GROUP at a time, through the SDK's
client, to a server in another process.

Environment:
  BENCH_RUNS=7   runs of each way (each figure is the median)
`);

/**
 * `npm run bench:posts`: the function's CPU and wall time per post when a
 * fan-out starts its posts one per completion (group 1) against FAN_OUT_GROUP
 * at a time, both with FAN_OUT_CONCURRENCY in flight, and when the first,
 * the middle and the last post of a fan-out were answered. It posts through
 * the notifier every function uses (the SDK's client, signing included) to a
 * server in another process that answers 200, so only the posting side is
 * measured. The two ways alternate, and each figure is the median of its runs.
 */

const POSTS_PER_RUN = 1_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** A frame the size of a bench message. */
const PAYLOAD = JSON.stringify({
  type: 'message',
  room: 'bench-1000-1000',
  seq: 1234,
  from: { userId: 'bench-user-0', name: 'Bench 0' },
  data: { pattern: 'ours', n: 3, t: 12345.678 },
  ts: Date.now(),
});

/** Answers every request 200 on a keep-alive connection, as a post to a live connection is answered. */
const SERVER = `
const server = require('node:http').createServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(200).end());
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function main(): Promise<void> {
  const server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await portOf(server);
    // Local placeholders: the client signs each post, as in Lambda; nothing checks the signature.
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    const notifier = createNotifier({ CALLBACK_URL: `http://127.0.0.1:${port}/local` });
    const ids = Array.from({ length: POSTS_PER_RUN }, (_, index) => `conn${index}`);
    /** Posts to every id; returns when each post was answered, in ms from the start, ascending. */
    const fanOut = async (group: number) => {
      const started = performance.now();
      const answered: number[] = [];
      const failures = await forEachBounded(
        ids,
        FAN_OUT_CONCURRENCY,
        async (id) => {
          await notifier.post(id, PAYLOAD);
          answered.push(performance.now() - started);
        },
        group,
      );
      if (failures.length > 0) throw failures[0];
      return answered;
    };
    const groups = [1, FAN_OUT_GROUP];
    // Warm-up: sockets open and the code optimised before anything is measured.
    for (const group of groups) for (let run = 0; run < 2; run++) await fanOut(group);
    const figures = new Map(
      groups.map((group) => [
        group,
        { wallUs: [] as number[], cpuUs: [] as number[], answeredMs: [] as number[][] },
      ]),
    );
    for (let run = 0; run < RUNS; run++) {
      for (const group of groups) {
        const cpu = process.cpuUsage();
        const started = performance.now();
        const answered = await fanOut(group);
        const used = process.cpuUsage(cpu);
        const entry = figures.get(group);
        entry?.wallUs.push(((performance.now() - started) * 1000) / POSTS_PER_RUN);
        entry?.cpuUs.push((used.user + used.system) / POSTS_PER_RUN);
        entry?.answeredMs.push(answered);
      }
    }
    console.log(
      `${POSTS_PER_RUN} posts per run, ${FAN_OUT_CONCURRENCY} in flight, median of ${RUNS} runs`,
    );
    console.log('group  wall µs/post  cpu µs/post  first ms  middle ms  last ms');
    for (const [group, { wallUs, cpuUs, answeredMs }] of figures) {
      const at = (rank: number) =>
        median(answeredMs.map((answered) => answered[rank] as number)).toFixed(1);
      console.log(
        [
          String(group).padStart(5),
          median(wallUs).toFixed(1).padStart(12),
          median(cpuUs).toFixed(1).padStart(11),
          at(0).padStart(8),
          at(POSTS_PER_RUN / 2).padStart(9),
          at(POSTS_PER_RUN - 1).padStart(7),
        ].join('  '),
      );
    }
  } finally {
    server.kill();
  }
}

async function portOf(server: ChildProcess): Promise<number> {
  const [chunk] = (await once(server.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return Number(chunk.toString().trim());
}

await main();
