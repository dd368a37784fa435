import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type RealtimeLocal, startRealtimeLocal } from '../../local/cli/realtime-local.js';
import { httpRequest } from './support/http.js';
import { until } from './support/wait.js';
import { handshake, type TestClient } from './support/ws-client.js';

/**
 * NOT YET PART OF THE SUITE (named .pending.ts, so vitest does not run it).
 * Run alone (`npx vitest run --dir test/local watch-mode.pending.ts` after
 * renaming) it passed twice: each version served 0.7–1.2 s after its save,
 * every send acked, /dev/token at most 59 ms. In the full suite it failed once:
 * right after the first reload the sends stalled (72 sent, 54 replies, the new
 * version not seen within 2 s). Cold starts after a reload on two cores are
 * the suspect (FunctionPool.reload now pre-starts the new code's instances,
 * which made it pass alone). See issue 16's closing note.
 *
 * `realtime-local --watch` (and `npm run dev`) over real sockets: an app with
 * one RealtimeApi whose `send` hook stamps a version on every message, and a
 * client sending every 100 ms while the hooks file is saved five times, the
 * ways editors save.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

let directory = '';
let hooksFile = '';
let running: RealtimeLocal | undefined;
const logs: string[] = [];
const clients: TestClient[] = [];

/** The hooks module at `version`: every message sent carries it. */
function hooksSource(version: number): string {
  return `export const hooks = { beforeSend: ({ data }) => ({ data: { ...data, version: ${version} } }) };\n`;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'realtime-watch-'));
  hooksFile = join(directory, 'hooks.mjs');
  await writeFile(hooksFile, hooksSource(0));
  await writeFile(
    join(directory, 'app.ts'),
    [
      // By path: the app is outside the repository, whose node_modules it uses.
      `import { App, Stack } from ${JSON.stringify(join(ROOT, 'node_modules/aws-cdk-lib/index.js'))};`,
      `import { RealtimeApi } from ${JSON.stringify(join(ROOT, 'lib/index.ts'))};`,
      'const app = new App();',
      `new RealtimeApi(new Stack(app, 'Watched'), 'Chat', {`,
      `  hooks: { entry: ${JSON.stringify(hooksFile)} },`,
      '  limits: { rateLimitPerSecond: 50 },',
      '});',
      'app.synth();',
    ].join('\n'),
  );
  running = await startRealtimeLocal(
    {
      app: `"${process.execPath}" "${TSX}" "${join(directory, 'app.ts')}"`,
      port: 0,
      help: false,
      watch: true,
    },
    { ...process.env, PORT: '0' },
    { log: (line) => logs.push(line), request: () => {} },
    [directory],
  );
  await running.watch?.warmed();
}, 240_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await running?.stop();
  if (directory !== '') await rm(directory, { recursive: true, force: true });
});

/** A client of the running API, with a dev token for `sub`. */
async function connect(sub: string): Promise<TestClient> {
  const stack = running?.apis[0]?.stack;
  if (stack === undefined) throw new Error('not running');
  const answer = await httpRequest('GET', `${stack.httpUrl}/dev/token?sub=${sub}&name=${sub}`);
  const { token } = JSON.parse(answer.body) as { token: string };
  const outcome = await handshake(`${stack.url}?token=${encodeURIComponent(token)}`, {}, 15_000);
  if (outcome.kind !== 'open') throw new Error(`refused with ${outcome.status}`);
  clients.push(outcome.client);
  return outcome.client;
}

describe('watch mode', () => {
  it('serves each save within 2 s, answering every request and /dev/token meanwhile', async () => {
    const stack = running?.apis[0]?.stack;
    if (stack === undefined) throw new Error('not running');
    const sender = await connect('sender');
    const receiver = await connect('receiver');
    for (const client of [receiver, sender]) {
      client.socket.send(JSON.stringify({ action: 'join', id: 'j', room: 'lobby' }));
      await until(
        () => client.frames.some((frame) => frame.text.includes('"joined"')),
        'joined',
        10_000,
      );
    }

    // Versions the receiver saw, with when; replies the sender got, by request id.
    const seen: { version: number; at: number }[] = [];
    receiver.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type?: string; data?: { version?: number } };
      if (frame.type === 'message' && typeof frame.data?.version === 'number') {
        seen.push({ version: frame.data.version, at: Date.now() });
      }
    });
    const replies = new Map<string, { type: string; code?: string }>();
    sender.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; id?: string; code?: string };
      if (frame.id?.startsWith('s')) replies.set(frame.id, frame);
    });

    // The load, paced by timers: a send and a /dev/token request every 100 ms.
    let sent = 0;
    const sends = setInterval(() => {
      sent += 1;
      if (sender.socket.readyState === WebSocket.OPEN) {
        sender.socket.send(
          JSON.stringify({ action: 'send', id: `s${sent}`, room: 'lobby', data: { n: sent } }),
        );
      }
    }, 100);
    let slowestToken = 0;
    const polls = new Set<Promise<void>>();
    const tokens = setInterval(() => {
      const started = Date.now();
      const poll = httpRequest('GET', `${stack.httpUrl}/dev/token?sub=poller`).then(() => {
        slowestToken = Math.max(slowestToken, Date.now() - started);
        polls.delete(poll);
      });
      polls.add(poll);
    }, 100);

    const saves: [string, (version: number) => Promise<void>][] = [
      ['in place', (version) => writeFile(hooksFile, hooksSource(version))],
      [
        'by rename',
        async (version) => {
          await writeFile(`${hooksFile}.tmp`, hooksSource(version));
          await rename(`${hooksFile}.tmp`, hooksFile);
        },
      ],
      [
        'by delete and recreate',
        async (version) => {
          await unlink(hooksFile);
          await writeFile(hooksFile, hooksSource(version));
        },
      ],
      ['in place again', (version) => writeFile(hooksFile, hooksSource(version))],
      [
        'by rename again',
        async (version) => {
          await writeFile(`${hooksFile}.tmp`, hooksSource(version));
          await rename(`${hooksFile}.tmp`, hooksFile);
        },
      ],
    ];
    const delays: Record<string, number> = {};
    try {
      // The client is chatting (its functions warm) before the first save.
      await until(() => seen.length > 0, 'a first message', 15_000);
      for (const [index, [how, save]] of saves.entries()) {
        const version = index + 1;
        // Saved while the stack keeps up with the sends, as a person saves
        // between reads, not while it still works off a backlog.
        await until(() => replies.size >= sent - 2, 'the sends to be answered as they go', 20_000);
        const savedAt = Date.now();
        await save(version);
        await until(
          () => seen.some((entry) => entry.version === version),
          `version ${version} (saved ${how}) to be served`,
          2_000,
        ).catch((error: unknown) => {
          const last = seen.at(-1);
          throw new Error(
            `${String(error)}; last seen version ${last?.version} ${last === undefined ? '' : last.at - savedAt} ms after the save; ${sent} sent, ${replies.size} replies`,
          );
        });
        delays[how] = (seen.find((entry) => entry.version === version)?.at ?? 0) - savedAt;
        await until(() => logs.some((line) => line.includes('reloaded')), 'a reload line', 2_000);
      }
    } finally {
      clearInterval(sends);
      clearInterval(tokens);
      await Promise.all(polls);
      await running?.watch?.idle();
      console.log(
        logs
          .filter((line) => !line.startsWith('Bundling'))
          .slice(-40)
          .map((line) => line.slice(0, 260))
          .join('\n'),
      );
    }
    await until(() => replies.size >= sent - 1, 'a reply to every send', 10_000);

    const failed = [...replies.values()].filter((reply) => reply.type !== 'ack');
    expect(failed).toEqual([]);
    expect(slowestToken).toBeLessThan(200);
    expect(logs.filter((line) => / changed: reloaded \d+ functions? \(/.test(line))).toHaveLength(
      5,
    );
    console.log(
      `watch mode: served after ${JSON.stringify(delays)} ms; slowest /dev/token ${slowestToken} ms; ${sent} sends`,
    );
  }, 120_000);
});
