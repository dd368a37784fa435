import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRequest } from './support/http.js';
import { until, within } from './support/wait.js';
import { handshake, type TestClient } from './support/ws-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_CLI = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
const URL_LINE = /^ws:\/\/127\.0\.0\.1:(\d+)\/prod(?= {3}Realtime\/Realtime$)/m;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

let child: ChildProcess;
let exited: Promise<Exit>;
let output = '';
let wsUrl: string;
let httpUrl: string;
let port: number;
let signalledAt: number | undefined;
const clients: TestClient[] = [];

/** Sends SIGTERM once, remembering when. */
function terminate(): void {
  if (signalledAt !== undefined) return;
  signalledAt = Date.now();
  child.kill('SIGTERM');
}

/** The printed WebSocket URL, once a line of stdout is exactly that. */
function printedUrl(): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = URL_LINE.exec(output);
      if (match) resolve(match[0]);
    });
    void exited.then((exit) => reject(new Error(`npm start exited (${exit.code}):\n${output}`)));
  });
}

/** A client connected with a dev token for `sub`; closed after the tests. */
async function connectAs(sub: string): Promise<TestClient> {
  const answer = await httpRequest('GET', `${httpUrl}/dev/token?sub=${sub}&name=${sub}`);
  const { token } = JSON.parse(answer.body) as { token: string };
  const outcome = await handshake(`${wsUrl}?token=${encodeURIComponent(token)}`, {}, 15_000);
  if (outcome.kind !== 'open') throw new Error(`refused with ${outcome.status}: ${outcome.body}`);
  clients.push(outcome.client);
  return outcome.client;
}

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  for (const name of ['DYNAMODB_DIR', 'LOCAL_IDLE_TIMEOUT_S', 'LOCAL_MAX_CONNECTION_S']) {
    delete env[name];
  }
  child = spawn(process.execPath, [TSX_CLI, 'local/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  wsUrl = await within(printedUrl(), 60_000, 'the WebSocket URL on stdout').catch(
    (error: unknown) => {
      throw new Error(`${String(error)}\n${output}`);
    },
  );
  port = Number(new URL(wsUrl.replace(/^ws:/, 'http:')).port);
  httpUrl = `http://127.0.0.1:${port}`;
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await within(exited, 5000, 'npm start to be killed');
  }
});

describe('npm start', () => {
  it('serves the demo page at / as text/html', async () => {
    const answer = await httpRequest('GET', `${httpUrl}/`);

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
  });

  it('delivers a message sent to a joined room, with a dev token', async () => {
    const client = await connectAs('alice');

    client.socket.send(JSON.stringify({ action: 'join', id: 'j1', room: 'lobby' }));
    expect(await client.nextJson(15_000)).toMatchObject({
      type: 'joined',
      id: 'j1',
      room: 'lobby',
    });
    client.socket.send(
      JSON.stringify({ action: 'send', id: 's1', room: 'lobby', data: { text: 'hello' } }),
    );
    const frames = [await client.nextJson(15_000), await client.nextJson(15_000)];

    expect(frames).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'ack', id: 's1', room: 'lobby', seq: 1 }),
        expect.objectContaining({
          type: 'message',
          room: 'lobby',
          seq: 1,
          from: { userId: 'alice', name: 'alice' },
          data: { text: 'hello' },
        }),
      ]),
    );
  });

  it('prints a readable line per request, a refused handshake with its reason, and no metrics JSON', async () => {
    const client = await connectAs('carol');
    client.socket.send(JSON.stringify({ action: 'join', id: 'j1', room: 'lobby' }));
    await client.nextJson(15_000);
    const refused = await handshake(`${wsUrl}?token=not.a.token`, {}, 15_000);

    await until(
      () => / join +carol +\d+ ms {2}ok$/m.test(output) && /401 refused: /.test(output),
      'the join and the refusal on stdout',
      10_000,
    );
    expect(refused).toMatchObject({ kind: 'refused', status: 401 });
    expect(output).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}\$connect +carol +\d+ ms {2}ok$/m);
    expect(output).toMatch(/ {2}\$connect +\d+ ms {2}401 refused: token_\w+: .+$/m);
    expect(output).not.toContain('"_aws"');
    expect(output).not.toContain('Invoke Error');
  });

  it('closes open sockets with 1001 on SIGTERM', async () => {
    const client = await connectAs('bob');

    terminate();

    expect((await client.closeStatus(10_000)).code).toBe(1001);
  });

  it('exits with code 0 within 10 s of SIGTERM', async () => {
    terminate();

    const exit = await within(exited, 12_000, 'npm start to exit');

    expect(exit.code).toBe(0);
    expect(exit.at - (signalledAt ?? 0)).toBeLessThan(10_000);
  });

  it('frees its port once it has exited', async () => {
    terminate();
    await within(exited, 12_000, 'npm start to exit');

    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    expect(address).toMatchObject({ port });
  });
});
