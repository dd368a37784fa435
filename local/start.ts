import { watch } from 'node:fs';
import { recordRunningStack } from './dev/running-stack.js';
import { engineFromEnvironment } from './dynamo/engine.js';
import { startLocalStack } from './local-stack.js';

/**
 * `npm start`: runs the local stack until SIGINT or SIGTERM. `--watch`
 * re-synthesizes and reloads the functions when code changes.
 */
const watchMode = process.argv.includes('--watch');
const started = performance.now();
const dynamo = engineFromEnvironment(process.env);
const stack = await startLocalStack({
  ...(process.env.PORT === undefined ? {} : { port: Number(process.env.PORT) }),
  engine: dynamo.engine,
  schedules: true,
  ...(dynamo.dir === undefined ? {} : { dynamoDir: dynamo.dir }),
  limits: {
    ...(process.env.LOCAL_IDLE_TIMEOUT_S
      ? { idleTimeoutMs: Number(process.env.LOCAL_IDLE_TIMEOUT_S) * 1000 }
      : {}),
    ...(process.env.LOCAL_MAX_CONNECTION_S
      ? { maxConnectionMs: Number(process.env.LOCAL_MAX_CONNECTION_S) * 1000 }
      : {}),
  },
});
const forgetRunningStack = recordRunningStack(stack);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const state = dynamo.dir === undefined ? 'in memory' : `state in ${dynamo.dir}`;
console.log(`Local stack ready in ${seconds} s (DynamoDB engine: ${stack.engine}, ${state})`);
console.log('WebSocket URL:');
console.log(stack.url);
console.log(`Demo page:       ${stack.httpUrl}/`);
console.log(`Management API:  ${stack.callbackUrl}/@connections/<connectionId>`);
console.log(`Dev token:       curl -s '${stack.httpUrl}/dev/token?sub=alice&name=Alice'`);
console.log(`Connect:         npx wscat -c "${stack.url}?token=<token>"`);
console.log(`Publish:         npm run publish -- --room lobby --data '"hello"'`);

if (watchMode) {
  let timer: NodeJS.Timeout | undefined;
  const onChange = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      console.log('Code changed: re-synthesizing and reloading functions...');
      stack.reload().then(
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

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing connections and stopping...`);
  // PROTOCOL.md section 8: exit 0 within 10 seconds, port freed.
  setTimeout(() => process.exit(0), 9_000).unref();
  forgetRunningStack();
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
