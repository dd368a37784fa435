// `npm run build` (and `prepack`): compiles what the package ships into dist/,
// so a consumer needs neither tsx nor this repository's sources:
// - lib/ (the RealtimeApi construct), lambdas/ and protocol/ (the handlers
//   its functions bundle at the consumer's synth, with their hooks), and
//   local/ (realtime-local), as JavaScript with type declarations;
// - the files local/ reads at run time (the worker of the Lambda runtime,
//   the demo page), and the client SDK's bundle the demo page loads, built by
//   client/build.mjs, the same build the client package ships.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleClient } from '../client/build.mjs';
import { TSC } from './typescript.mjs';

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const DIST = root('dist/');

const RUNTIME_FILES = ['local/runtime/worker.mjs', 'local/demo/index.html'];

await rm(DIST, { recursive: true, force: true });
try {
  await promisify(execFile)(process.execPath, [TSC, '-p', root('tsconfig.build.json')]);
} catch (error) {
  // tsc reports its diagnostics on stdout.
  console.error(`${error.stdout ?? ''}${error.stderr ?? ''}`);
  process.exit(1);
}
for (const file of RUNTIME_FILES) {
  await mkdir(dirname(`${DIST}${file}`), { recursive: true });
  await copyFile(root(file), `${DIST}${file}`);
}
await writeFile(`${DIST}local/demo/realtime-client.js`, await bundleClient());
