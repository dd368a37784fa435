import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { FunctionModel, StackModel } from '../local/assembly/stack-model.js';
import { localEnvironment } from '../local/local-stack.js';
import { median } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 5;
/** Bundles over this size carry the AWS SDK inside. */
const SDK_BUNDLED_BYTES = 100_000;

/** One function's cold-start figures. */
export interface ColdStart {
  readonly function: string;
  readonly bytes: number;
  /** Median time to import the bundle (module init included) in a fresh Node process. */
  readonly importMs: number;
  /** The same handler bundled without the SDK, which then loads from node_modules as Lambda's copy would. */
  readonly runtimeSdkBytes?: number;
  readonly runtimeSdkImportMs?: number;
}

/**
 * Measures each function's bundle as deployed, and for those that bundle the
 * AWS SDK the alternative of taking it from the Lambda runtime: the same
 * handler built with `@aws-sdk/*` external, so the import resolves the SDK's
 * published files from node_modules (Lambda's runtime has the same packages).
 */
export async function coldStarts(model: StackModel): Promise<ColdStart[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'realtime-cold-'));
  symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  try {
    const rows: ColdStart[] = [];
    for (const fn of [...model.functions.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const env = environmentOf(model, fn);
      const bytes = statSync(fn.bundle).size;
      const row: ColdStart = {
        function: fn.name,
        bytes,
        importMs: await medianImport(fn.bundle, env),
      };
      if (bytes > SDK_BUNDLED_BYTES) {
        const external = join(scratch, `${fn.name}.mjs`);
        await build({
          entryPoints: [entryOf(fn)],
          outfile: external,
          bundle: true,
          minify: true,
          platform: 'node',
          format: 'esm',
          target: 'node24',
          mainFields: ['module', 'main'],
          external: ['@aws-sdk/*'],
          logLevel: 'error',
        });
        rows.push({
          ...row,
          runtimeSdkBytes: statSync(external).size,
          runtimeSdkImportMs: await medianImport(external, env),
        });
      } else {
        rows.push(row);
      }
    }
    return rows;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The handler module a function was bundled from: `SendHandler` is lambdas/handlers/send.ts. */
function entryOf(fn: FunctionModel): string {
  const name = fn.name
    .replace(/Handler$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
  return join(ROOT, 'lambdas', 'handlers', `${name}.ts`);
}

function environmentOf(model: StackModel, fn: FunctionModel): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    ...localEnvironment(model, fn.environment, {
      httpUrl: 'http://127.0.0.1:9',
      secret: 'bench-secret',
      dynamo: 'http://127.0.0.1:9',
    }),
  };
}

async function medianImport(bundle: string, env: NodeJS.ProcessEnv): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) times.push(await importOnce(bundle, env));
  return Math.round(median(times) * 10) / 10;
}

const IMPORT = `
const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));
`;

function importOnce(bundle: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', IMPORT, pathToFileURL(bundle).href],
      { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 },
    );
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(output);
      if (code === 0 && Number.isFinite(ms)) resolve(ms);
      else reject(new Error(`importing ${bundle} failed (${code}): ${errors}`));
    });
  });
}
