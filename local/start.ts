import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRealtimeLocal } from './cli/realtime-local.js';
import { recordRunningStack } from './dev/running-stack.js';

/**
 * `npm start`: `realtime-local` on this project's own app (bin/app.ts),
 * synthesized with the configuration of the environment. `--watch`
 * (`npm run dev`) reloads when lambdas/, protocol/ or lib/ change.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const app = `"${process.execPath}" "${tsx}" bin/app.ts`;
process.chdir(ROOT);

await runRealtimeLocal(
  // npm start -- --help, --port, --watch (npm run dev) and the rest of realtime-local's options.
  ['--app', app, ...process.argv.slice(2)],
  process.env,
  (running) => {
    const stack = running.apis[0]?.stack;
    if (stack === undefined) return () => {};
    console.log(`Management API:  ${stack.callbackUrl}/@connections/<connectionId>`);
    console.log(`Connect:         npx wscat -c "${stack.url}?token=<token>"`);
    console.log(`Publish:         npm run publish -- --room lobby --data '"hello"'`);
    return recordRunningStack(stack);
  },
  ['lambdas', 'protocol', 'lib'].map((folder) => join(ROOT, folder)),
);
