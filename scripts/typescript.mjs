// Where TypeScript's `tsc` is, for the builds and tests that run it as a
// process (`node <tsc> -p ...`). TypeScript 7 exports no `bin/tsc` subpath, so
// `require.resolve('typescript/bin/tsc')` fails: the path comes from the
// `bin` its package.json declares.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const manifest = createRequire(import.meta.url).resolve('typescript/package.json');

/** The absolute path of TypeScript's `tsc` script, run with `node`. */
export const TSC = join(dirname(manifest), JSON.parse(readFileSync(manifest, 'utf8')).bin.tsc);
