import { watch } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runRealtimeLocal } from './cli/realtime-local.js';
import { recordRunningStack } from './dev/running-stack.js';

/**
 * `npm start`: `realtime-local` on this project's own app (bin/app.ts),
 * synthesized with the configuration of the environment. `--watch`
 * (`npm run dev`) synthesizes again and reloads the functions when code changes.
 */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const watchMode = process.argv.includes('--watch');
const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const app = `"${process.execPath}" "${tsx}" bin/app.ts`;
process.chdir(ROOT);

await runRealtimeLocal(['--app', app], process.env, (running) => {
  const stack = running.apis[0]?.stack;
  if (stack === undefined) return () => {};
  console.log(`Management API:  ${stack.callbackUrl}/@connections/<connectionId>`);
  console.log(`Connect:         npx wscat -c "${stack.url}?token=<token>"`);
  console.log(`Publish:         npm run publish -- --room lobby --data '"hello"'`);
  if (watchMode) watchCode(() => running.reload());
  return recordRunningStack(stack);
});

/** Calls `reload` 300 ms after the last change under lambdas/, protocol/ or lib/. */
function watchCode(reload: () => Promise<void>): void {
  let timer: NodeJS.Timeout | undefined;
  const onChange = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      console.log('Code changed: re-synthesizing and reloading functions...');
      reload().then(
        () => console.log('Reloaded.'),
        (error: unknown) => console.error(`Reload failed: ${String(error)}`),
      );
    }, 300);
  };
  for (const folder of ['lambdas', 'protocol', 'lib']) {
    watch(new URL(`../${folder}`, import.meta.url), { recursive: true }, onChange);
  }
  console.log('Watching lambdas/, protocol/ and lib/ for changes.');
}
