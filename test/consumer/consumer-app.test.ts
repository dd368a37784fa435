import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSC } from '../../scripts/typescript.mjs';
import { run } from '../client/support/packed-client.js';
import { within } from '../local/support/wait.js';
import { cloudFormationFindings } from '../support/cloudformation-validation.js';

/**
 * A consumer's CDK app (test/consumer/app), installed from the two tarballs
 * `npm pack` makes, not from this repository's sources: a stack with its own
 * bucket and two RealtimeApi, one with hooks. Synthesized, checked by
 * cdk-nag, run with `realtime-local`, and chatted on over real sockets by
 * the installed client package.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP = fileURLToPath(new URL('./app/', import.meta.url));
const rootPackage = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
/** Construct metadata by construct path, as the assembly records it. */
type Metadata = Record<string, { type: string; data: unknown }[]>;

const API_LINE = /^(ws:\/\/127\.0\.0\.1:(\d+)\/(\S+)) {3}(\S+)$/gm;

let directory = '';
let shop = '';
let local: ChildProcess | undefined;
let localOutput = '';
let apis: { url: string; httpUrl: string; stage: string; path: string }[] = [];
/** The app's type check, started once it is installed and run beside its synthesis. */
let typeCheck: Promise<{ stdout: string; stderr: string }> | undefined;

/** Packs the root package and the client into `directory`, returning the tarballs' paths. */
async function pack(): Promise<{ backend: string; client: string }> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', directory, '--include-workspace-root', '-w', 'client'],
    ROOT,
    240_000,
  );
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  const tarball = (name: string) => {
    const found = packed.find((entry) => entry.name === name);
    if (found === undefined) throw new Error(`npm pack made no ${name}: ${stdout}`);
    return join(directory, found.filename);
  };
  return {
    backend: tarball('serverless-websocket-backend'),
    client: tarball('serverless-websocket-client'),
  };
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'realtime-consumer-'));
  const tarballs = await pack();
  shop = join(directory, 'shop');
  await cp(APP, shop, { recursive: true });
  const version = (name: string) => rootPackage.devDependencies[name] ?? '*';
  await writeFile(
    join(shop, 'package.json'),
    JSON.stringify({
      name: 'shop',
      private: true,
      type: 'module',
      dependencies: {
        'aws-cdk-lib': version('aws-cdk-lib'),
        constructs: version('constructs'),
        'cdk-nag': version('cdk-nag'),
        'serverless-websocket-backend': `file:${tarballs.backend}`,
        'serverless-websocket-client': `file:${tarballs.client}`,
      },
    }),
  );
  // From npm's cache, filled by this repository's `npm ci` (the registry for what it lacks).
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--loglevel=error',
    ],
    shop,
    240_000,
  );
  // tsc (TypeScript 7's native compiler, a few seconds) runs beside the synthesis.
  typeCheck = run(process.execPath, [TSC, '-p', 'tsconfig.json'], shop, 240_000);
  // Observed by its test; a failure here must not go unhandled before then.
  typeCheck.catch(() => {});
  // As `cdk synth` runs it: told where to write and to record paths and assets.
  await run(process.execPath, ['app.ts'], shop, 240_000, {
    CDK_OUTDIR: join(shop, 'cdk.out'),
    CDK_CONTEXT_JSON: JSON.stringify({
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:enable-asset-metadata': true,
    }),
  });
}, 600_000);

afterAll(async () => {
  if (local !== undefined && local.exitCode === null) {
    const exited = new Promise((resolve) => local?.once('exit', resolve));
    local.kill('SIGTERM');
    await within(exited, 12_000, 'realtime-local to exit');
  }
  if (directory !== '') await rm(directory, { recursive: true, force: true });
});

describe('a consumer app installed from the packed tarballs', () => {
  it('installs neither our sources nor tsx: the backend ships compiled JavaScript with declarations', () => {
    const installed = join(shop, 'node_modules', 'serverless-websocket-backend');
    expect(existsSync(join(installed, 'dist/lib/index.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist/lib/index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist/lambdas/hooks/types.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'lib'))).toBe(false);
    expect(existsSync(join(shop, 'node_modules', 'tsx'))).toBe(false);
  });

  it('type-checks the app and its hooks against the installed declarations', async () => {
    await expect(typeCheck).resolves.toEqual({ stdout: '', stderr: '' });
  }, 240_000);

  it('synthesizes with no cdk-nag finding', async () => {
    const outdir = join(shop, 'cdk.out');
    const manifest = JSON.parse(await readFile(join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { metadata?: Metadata; additionalMetadataFile?: string }>;
    };
    const findings: string[] = [];
    for (const artifact of Object.values(manifest.artifacts)) {
      // Recent CDK versions write a stack's metadata to a file of its own.
      const extra = artifact.additionalMetadataFile;
      const metadata: Metadata = {
        ...artifact.metadata,
        ...(extra === undefined
          ? {}
          : (JSON.parse(await readFile(join(outdir, extra), 'utf8')) as Metadata)),
      };
      for (const [path, entries] of Object.entries(metadata)) {
        for (const entry of entries) {
          if (entry.type === 'aws:cdk:error' || entry.type === 'aws:cdk:warning') {
            findings.push(`${path}: ${String(entry.data)}`);
          }
        }
      }
    }
    expect(findings).toEqual([]);
    // cdk-nag ran: as a validation plugin, a finding would have failed the synth itself.
    expect(existsSync(join(outdir, 'Shop.template.json'))).toBe(true);
  });

  it('passes CloudFormation’s validation', () => {
    const outdir = join(shop, 'cdk.out');
    const templates = readdirSync(outdir).filter((name) => name.endsWith('.template.json'));
    expect(templates).toEqual(['Shop.template.json']);
    expect(cloudFormationFindings(templates.map((name) => join(outdir, name)))).toEqual([]);
  });

  it('bundles the hooks into the hooked API’s $connect, $disconnect, join and send, and only those', async () => {
    const template = JSON.parse(
      await readFile(join(shop, 'cdk.out/Shop.template.json'), 'utf8'),
    ) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
    const hooked: string[] = [];
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const bundle = await readFile(
        join(shop, 'cdk.out', String(resource.Metadata?.['aws:asset:path']), 'index.mjs'),
        'utf8',
      );
      if (bundle.includes('No spam in the shop'))
        hooked.push(String(resource.Metadata?.['aws:cdk:path']));
    }
    expect(hooked.sort()).toEqual(
      ['Connect', 'Disconnect', 'Join', 'Send'].map((name) => `Shop/Chat/${name}Handler/Resource`),
    );
  });

  it('runs with realtime-local, one line per API with its construct path', async () => {
    const bin = join(shop, 'node_modules/serverless-websocket-backend/bin/realtime-local.mjs');
    local = spawn(process.execPath, [bin, '--assembly', 'cdk.out'], {
      cwd: shop,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      localOutput += chunk.toString('utf8');
    };
    local.stdout?.on('data', collect);
    local.stderr?.on('data', collect);
    const serving = new Promise<void>((resolve, reject) => {
      local?.stdout?.on('data', () => {
        if ([...localOutput.matchAll(API_LINE)].length === 2) resolve();
      });
      local?.once('exit', (code) =>
        reject(new Error(`realtime-local exited (${code}):\n${localOutput}`)),
      );
    });
    await within(serving, 120_000, 'realtime-local to print both APIs');
    apis = [...localOutput.matchAll(API_LINE)].map((match) => ({
      url: match[1] ?? '',
      httpUrl: `http://127.0.0.1:${match[2]}`,
      stage: match[3] ?? '',
      path: match[4] ?? '',
    }));
    expect(apis.map(({ stage, path }) => ({ stage, path }))).toEqual([
      { stage: 'prod', path: 'Shop/Chat' },
      { stage: 'live', path: 'Shop/Notifications' },
    ]);
  }, 150_000);

  it('chats on both APIs, the hooked one refusing and transforming as its hooks say', async () => {
    const [chat, notifications] = apis;
    if (chat === undefined || notifications === undefined)
      throw new Error('realtime-local is not serving');
    const { stdout } = await run(
      process.execPath,
      ['chat.mjs', chat.url, chat.httpUrl, notifications.url, notifications.httpUrl],
      shop,
      60_000,
    );
    expect(JSON.parse(stdout)).toEqual({
      chatTransformed: { text: 'HELLO SHOP' },
      chatRejected: { code: 'forbidden', message: 'No spam in the shop, please.' },
      chatStaffRefused: { code: 'forbidden', message: expect.any(String) },
      chatStaffAllowed: 'ok',
      notificationsUnchanged: { text: 'order 42 shipped' },
      notificationsStaffJoin: 'ok',
    });
  }, 90_000);

  it('says plainly that it needs Node 22 when run on an older Node', async () => {
    const oldNode = '/usr/bin/node';
    const version = existsSync(oldNode)
      ? (await run(oldNode, ['--version'], shop)).stdout.trim()
      : 'none';
    if (!/^v(1\d|2[01])\./.test(version)) return expect(version).not.toMatch(/^v(1\d|2[01])\./);
    const bin = join(shop, 'node_modules/serverless-websocket-backend/bin/realtime-local.mjs');
    const refused = await run(oldNode, [bin, '--help'], shop).then(
      () => 'ran',
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/needs Node\.js 22 or newer; this is Node\.js \d+/);
  });
});
