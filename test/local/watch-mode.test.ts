import { mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
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
 * `realtime-local --watch` (and `npm run dev`) over real sockets: an app with
 * one RealtimeApi whose `send` hook stamps a version on every message, and a
 * client sending every 100 ms while the hooks file is saved five times, the
 * ways editors save.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

let directory = '';
let hooksFile = '';
let appFile = '';
let running: RealtimeLocal | undefined;
const logs: string[] = [];
const clients: TestClient[] = [];

/** The app's data limit at start; the lib/app test lowers it. */
const APP_MAX_DATA_BYTES = 4096;

/** The hooks module at `version`: every message sent carries it. */
function hooksSource(version: number): string {
  return `export const hooks = { beforeSend: ({ data }) => ({ data: { ...data, version: ${version} } }) };\n`;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'realtime-watch-'));
  hooksFile = join(directory, 'hooks.mjs');
  await writeFile(hooksFile, hooksSource(0));
  appFile = join(directory, 'app.ts');
  await writeFile(
    appFile,
    [
      // By path: the app is outside the repository, whose node_modules it uses.
      `import { App, Stack } from ${JSON.stringify(join(ROOT, 'node_modules/aws-cdk-lib/index.js'))};`,
      `import { RealtimeApi } from ${JSON.stringify(join(ROOT, 'lib/index.ts'))};`,
      'const app = new App();',
      `new RealtimeApi(new Stack(app, 'Watched'), 'Chat', {`,
      `  hooks: { entry: ${JSON.stringify(hooksFile)} },`,
      `  limits: { rateLimitPerSecond: 50, maxDataBytes: ${APP_MAX_DATA_BYTES} },`,
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

/**
 * Two members of `lobby`: `sender` sends every 100 ms and a poller asks
 * `/dev/token` every 100 ms until `stop`; what the receiver saw and the
 * sender was answered are recorded.
 */
interface Chat {
  /** Versions the receiver saw, with when. */
  readonly seen: { version: number | undefined; at: number; bytes: number }[];
  /** The sender's replies, by request id. */
  readonly replies: Map<string, { type: string; code?: string }>;
  readonly sent: () => number;
  readonly slowestToken: () => number;
  /** Sends larger data from now on (`bytes` of padding). */
  pad(bytes: number): void;
  stop(): Promise<void>;
}

let chatting: { sender: TestClient; receiver: TestClient } | undefined;

async function chat(): Promise<Chat> {
  const stack = running?.apis[0]?.stack;
  if (stack === undefined) throw new Error('not running');
  if (chatting === undefined) {
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
    chatting = { sender, receiver };
  }
  const { sender, receiver } = chatting;
  const seen: Chat['seen'] = [];
  const onMessage = (data: unknown) => {
    const text = String(data);
    const frame = JSON.parse(text) as { type?: string; data?: { version?: number } };
    if (frame.type === 'message') {
      seen.push({ version: frame.data?.version, at: Date.now(), bytes: text.length });
    }
  };
  receiver.socket.on('message', onMessage);
  const replies: Chat['replies'] = new Map();
  const prefix = `s${Date.now()}-`;
  const onReply = (data: unknown) => {
    const frame = JSON.parse(String(data)) as { type: string; id?: string; code?: string };
    if (frame.id?.startsWith(prefix)) replies.set(frame.id, frame);
  };
  sender.socket.on('message', onReply);

  // The load, paced by timers: a send and a /dev/token request every 100 ms.
  let sent = 0;
  let padding = '';
  const sends = setInterval(() => {
    sent += 1;
    if (sender.socket.readyState === WebSocket.OPEN) {
      const data = { n: sent, ...(padding === '' ? {} : { padding }) };
      sender.socket.send(
        JSON.stringify({ action: 'send', id: `${prefix}${sent}`, room: 'lobby', data }),
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
  // The client is chatting (its functions warm) before anything is saved.
  await until(() => seen.length > 0, 'a first message', 15_000);
  return {
    seen,
    replies,
    sent: () => sent,
    slowestToken: () => slowestToken,
    pad(bytes) {
      padding = 'x'.repeat(bytes);
    },
    async stop() {
      clearInterval(sends);
      clearInterval(tokens);
      await Promise.all(polls);
      await until(() => replies.size >= sent - 1, 'a reply to every send', 10_000);
      receiver.socket.off('message', onMessage);
      sender.socket.off('message', onReply);
    },
  };
}

/** Waits until the stack keeps up with the sends: a person saves between reads, not amid a backlog. */
async function keepingUp(load: Chat): Promise<void> {
  await until(
    () => load.replies.size >= load.sent() - 2,
    'the sends to be answered as they go',
    20_000,
  );
}

/** The stack's log so far, for a failure's message. */
function recentLogs(): string {
  return logs
    .filter((line) => !line.startsWith('Bundling'))
    .slice(-30)
    .map((line) => line.slice(0, 260))
    .join('\n');
}

describe('watch mode', () => {
  it('serves each save within 2 s, answering every request and /dev/token meanwhile', async () => {
    const load = await chat();
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
    const reloadLines = () =>
      logs.filter((line) => / changed: reloaded \d+ functions? \(/.test(line));
    try {
      for (const [index, [how, save]] of saves.entries()) {
        const version = index + 1;
        await keepingUp(load);
        const reloadsBefore = reloadLines().length;
        const savedAt = Date.now();
        await save(version);
        await until(
          () => load.seen.some((entry) => entry.version === version),
          `version ${version} (saved ${how}) to be served`,
          2_000,
        ).catch((error: unknown) => {
          const last = load.seen.at(-1);
          throw new Error(
            `${String(error)}; last seen version ${last?.version} ${last === undefined ? '' : last.at - savedAt} ms after the save; ${load.sent()} sent, ${load.replies.size} replies\n${recentLogs()}`,
          );
        });
        delays[how] = (load.seen.find((entry) => entry.version === version)?.at ?? 0) - savedAt;
        await until(() => reloadLines().length > reloadsBefore, 'its reload line', 2_000);
      }
    } finally {
      await load.stop();
    }

    const failed = [...load.replies.values()].filter((reply) => reply.type !== 'ack');
    expect(failed).toEqual([]);
    expect(load.slowestToken()).toBeLessThan(200);
    expect(reloadLines()).toHaveLength(5);
    console.log(
      `watch mode: served after ${JSON.stringify(delays)} ms; slowest /dev/token ${load.slowestToken()} ms; ${load.sent()} sends`,
    );
  }, 120_000);

  it("prints esbuild's error for a save that does not build and keeps serving the last good code", async () => {
    const load = await chat();
    try {
      await keepingUp(load);
      const logsBefore = logs.length;
      await writeFile(
        hooksFile,
        'export const hooks = { beforeSend: ({ data }) => ({ data: { ...data, version: 6 } };\n',
      );
      await until(
        () => logs.slice(logsBefore).some((line) => line.includes('build failed')),
        'the failed build to be reported',
        10_000,
      );
      const report = logs.slice(logsBefore).join('\n');
      // esbuild's own message, with the file and line.
      expect(report).toMatch(/hooks\.mjs:1:\d+: ERROR: Expected/);
      expect(report).toContain('still serving the last good code');
      const afterFailure = load.seen.length;
      await until(() => load.seen.length >= afterFailure + 5, 'more messages', 10_000);
      expect(new Set(load.seen.slice(afterFailure).map((entry) => entry.version))).toEqual(
        new Set([5]),
      );

      await writeFile(hooksFile, hooksSource(7));
      await until(
        () => load.seen.some((entry) => entry.version === 7),
        'the fixed save to be served',
        2_000,
      );
    } finally {
      await load.stop();
    }
    expect([...load.replies.values()].filter((reply) => reply.type !== 'ack')).toEqual([]);
  }, 60_000);

  it('re-synthesizes a changed app in the background: sockets and /dev/token keep answering, then its new settings apply', async () => {
    const load = await chat();
    try {
      await keepingUp(load);
      const logsBefore = logs.length;
      // Sends of about 2 KB: within the app's 4096-byte data limit, over the 1024 it changes to.
      load.pad(2_000);
      const app = await readFile(appFile, 'utf8');
      await writeFile(
        appFile,
        app.replace(`maxDataBytes: ${APP_MAX_DATA_BYTES}`, 'maxDataBytes: 1024'),
      );
      await until(
        () => logs.slice(logsBefore).some((line) => line.includes('re-synthesized')),
        'the app to be synthesized again',
        90_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${recentLogs()}`);
      });
      await until(
        () => [...load.replies.values()].some((reply) => reply.code === 'too_large'),
        'the new limit to apply',
        5_000,
      );
    } finally {
      await load.stop();
    }
    // Every send before the switch was answered normally, and /dev/token throughout.
    const replies = [...load.replies.values()];
    const firstRefused = replies.findIndex((reply) => reply.code === 'too_large');
    expect(replies.slice(0, firstRefused).filter((reply) => reply.type !== 'ack')).toEqual([]);
    expect(load.slowestToken()).toBeLessThan(200);
    console.log(
      `watch mode, app changed: slowest /dev/token ${load.slowestToken()} ms; ${load.sent()} sends`,
    );
  }, 150_000);
});
