// The SDK's one build, so that what `npm pack` ships and what the local stack
// serves to its demo page are the same bytes: `bundleClient()` gives the ES
// module, `writeDist()` writes it with its type declarations to dist/.
// `node build.mjs` (the package's `build` and `prepack` scripts) runs `writeDist()`.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { TSC } from '../scripts/typescript.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const CLIENT = here('.');
const ENTRY = here('./index.ts');
const DIST = here('./dist/');
const TSCONFIG = here('./tsconfig.build.json');
// tsc writes the declarations under the common root of client/ and protocol/
// (the SDK re-exports the protocol's frame types); dist/index.d.ts points there.
const DECLARATIONS_ENTRY = './types/client/index.js';

/** Bundles the SDK into one ES module for browsers and Node 22+: the text of `dist/index.js`. */
export async function bundleClient() {
  const result = await build({
    entryPoints: [ENTRY],
    // esbuild names each source in a comment, relative to this directory: fixed
    // here, the bytes do not depend on where the build was started from.
    absWorkingDir: CLIENT,
    bundle: true,
    format: 'esm',
    // The SDK uses only what browsers and Node 22+ both have (WebSocket,
    // timers, atob, TextDecoder), so neither platform's defaults apply.
    platform: 'neutral',
    target: 'es2022',
    // Readable in node_modules and in the browser's debugger; an app's own
    // bundler minifies it. No source map: its paths would point into this repository.
    minify: false,
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${ENTRY}`);
  return output.text;
}

/** Writes dist/ afresh: the bundle `index.js` and the declarations `index.d.ts` leads to. */
export async function writeDist() {
  await rm(DIST, { recursive: true, force: true });
  const [code] = await Promise.all([bundleClient(), emitDeclarations()]);
  await mkdir(DIST, { recursive: true });
  await writeFile(`${DIST}index.js`, code);
  await writeFile(`${DIST}index.d.ts`, `export * from '${DECLARATIONS_ENTRY}';\n`);
}

async function emitDeclarations() {
  try {
    await promisify(execFile)(process.execPath, [TSC, '-p', TSCONFIG]);
  } catch (error) {
    // tsc reports its diagnostics on stdout.
    throw new Error(`tsc -p ${TSCONFIG} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`, {
      cause: error,
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await writeDist();
