import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSC } from '../../scripts/typescript.mjs';
import { useLocalStack } from '../integration/support/local-stack-fixture.js';
import { type PackedClient, packAndInstallClient, run } from './support/packed-client.js';

/** A consumer's program using the public API; `@ts-expect-error` lines fail if types were `any`. */
const PROGRAM = `
import {
  type ClientEvents,
  type ConnectionState,
  type MessageFrame,
  RealtimeClient,
  RealtimeError,
  type User,
} from 'serverless-websocket-client';

export async function chat(url: string, token: () => Promise<string>): Promise<string[]> {
  const client = new RealtimeClient({ url, token, reconnect: { maxDelayMs: 5_000 } });
  const seen: string[] = [];
  const off = client.on('state', ({ state }: { state: ConnectionState }) => seen.push(state));
  client.on('message', (message: MessageFrame) => seen.push(\`\${message.room}#\${message.seq}\`));
  client.on('presence', ({ members }: ClientEvents['presence']) => {
    seen.push(...members.map((user: User) => user.name));
  });
  client.on('error', (error) => {
    if (error instanceof RealtimeError && error.code === 'rate_limited') seen.push(error.message);
  });
  client.connect();
  const { seq } = await client.join('lobby');
  const sent: { seq: number } = await client.send('lobby', { text: 'hello' });
  client.typing('lobby');
  const page = await client.history('lobby', { after: seq, limit: 10 });
  seen.push(...page.messages.map((message) => String(message.data)), String(sent.seq));
  // @ts-expect-error a room is a string
  await client.join(42);
  // @ts-expect-error there is no such event
  client.on('messages', () => {});
  off();
  client.close();
  return seen;
}
`;

const STRICT = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  target: 'ES2022',
  noEmit: true,
  // The package's own declarations are checked too.
  skipLibCheck: false,
  types: [],
};

/**
 * Consumer settings the package must type-check under: both module
 * resolutions, with the DOM lib of a web app and with no platform types at all.
 */
const CONSUMERS = {
  'nodenext resolution with the DOM lib': {
    ...STRICT,
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
  },
  'bundler resolution with neither DOM nor Node types': {
    ...STRICT,
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2022'],
  },
};

/** Two clients of the installed package on Node's global WebSocket: one sends, the other receives. */
const NODE_CHAT = `
import { RealtimeClient } from 'serverless-websocket-client';

const [url, room, senderToken, receiverToken] = process.argv.slice(2);
const sender = new RealtimeClient({ url, token: () => senderToken });
const receiver = new RealtimeClient({ url, token: () => receiverToken });
const received = new Promise((resolve) => receiver.on('message', resolve));
sender.connect();
receiver.connect();
await receiver.join(room);
await sender.join(room);
const { seq } = await sender.send(room, { text: 'hello from Node' });
const message = await received;
console.log(JSON.stringify({ seq, message }));
sender.close();
receiver.close();
`;

describe('the client package', () => {
  const local = useLocalStack('dynalite');
  let directory = '';
  let packed: PackedClient | undefined;
  const installed = () => {
    if (packed === undefined) throw new Error('the client was not packed');
    return packed;
  };

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'realtime-client-package-'));
    packed = await packAndInstallClient(directory);
  });

  afterAll(async () => {
    if (directory !== '') await rm(directory, { recursive: true, force: true });
  });

  it('ships only its build, README and manifest', () => {
    const { files } = installed();
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/types/client/realtime-client.d.ts');
    expect(files).toContain('dist/types/protocol/messages.d.ts');
    const outside = files.filter(
      (path) => !path.startsWith('dist/') && !['package.json', 'README.md'].includes(path),
    );
    expect(outside).toEqual([]);
    expect(files.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('depends on nothing at run time and points its exports at the build, types first', async () => {
    const manifest = JSON.parse(
      await readFile(join(installed().installed, 'package.json'), 'utf8'),
    );
    for (const field of [
      'dependencies',
      'peerDependencies',
      'optionalDependencies',
      'bundleDependencies',
    ]) {
      expect(manifest[field], field).toBeUndefined();
    }
    expect(manifest).toMatchObject({
      name: 'serverless-websocket-client',
      version: '0.1.0',
      type: 'module',
      sideEffects: false,
      engines: { node: '>=22' },
    });
    expect(Object.entries(manifest.exports['.'])).toEqual([
      ['types', './dist/index.d.ts'],
      ['default', './dist/index.js'],
    ]);
  });

  it.each(Object.entries(CONSUMERS))(
    'type-checks a strict program using its API under %s',
    async (label, compilerOptions) => {
      const { project } = installed();
      const name = label.replace(/\W+/g, '-');
      await writeFile(join(project, `${name}.ts`), PROGRAM);
      const tsconfig = join(project, `tsconfig.${name}.json`);
      await writeFile(tsconfig, JSON.stringify({ compilerOptions, files: [`${name}.ts`] }));
      // Resolves with no output; a type error fails with tsc's report.
      await expect(run(process.execPath, [TSC, '-p', tsconfig], project)).resolves.toEqual({
        stdout: '',
        stderr: '',
      });
    },
    // A tsc process: a few seconds alone, longer beside another test file.
    60_000,
  );

  it("loads on Node by the package's name, with every runtime export", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        "const sdk = await import('serverless-websocket-client'); console.log(JSON.stringify(Object.keys(sdk).sort()));",
      ],
      installed().project,
    );
    expect(JSON.parse(stdout)).toEqual([
      'DEFAULT_BACKOFF',
      'RealtimeClient',
      'RealtimeError',
      'backoffDelay',
      'tokenExpiry',
    ]);
  });

  it("chats through the local stack on Node's global WebSocket", async () => {
    const { project } = installed();
    const script = join(project, 'chat.mjs');
    await writeFile(script, NODE_CHAT);
    const room = `package-${Date.now().toString(36)}`;
    const tokens = await Promise.all(['sender', 'receiver'].map((sub) => local.token({ sub })));
    const { stdout } = await run(
      process.execPath,
      [script, local.stack.url, room, ...tokens],
      project,
      15_000,
    );
    const { seq, message } = JSON.parse(stdout);
    expect(message).toMatchObject({
      type: 'message',
      room,
      seq,
      from: { userId: 'sender' },
      data: { text: 'hello from Node' },
    });
  });

  it('is byte for byte the SDK the local stack serves to its demo page', async () => {
    const shipped = await readFile(join(installed().installed, 'dist', 'index.js'), 'utf8');
    const response = await fetch(`${local.stack.httpUrl}/realtime-client.js`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(shipped);
  });
});
