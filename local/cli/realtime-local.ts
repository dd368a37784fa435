import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findRealtimeApis, type RealtimeApiLocation } from '../assembly/realtime-apis.js';
import { createLocalConsole, type LocalConsole } from '../console/local-console.js';
import { startWatchMode, type WatchMode } from '../dev/watch-mode.js';
import { engineFromEnvironment } from '../dynamo/engine.js';
import { type LocalStack, startLocalStack, synthesisEnv } from '../local-stack.js';
import { parseOptions, type RealtimeLocalOptions, USAGE, UsageError } from './options.js';
import { synthesizeWithCommand } from './synthesize-with-command.js';

type Env = Readonly<Record<string, string | undefined>>;

/** One API running locally. */
export interface RunningApi {
  readonly location: RealtimeApiLocation;
  readonly stack: LocalStack;
}

/** Every API of the app, running. */
export interface RealtimeLocal {
  readonly apis: readonly RunningApi[];
  /** The watch mode, with `--watch`. */
  readonly watch?: WatchMode;
  /** Synthesizes again (with `--app`) and reloads every API's functions. */
  reload(): Promise<void>;
  /** Closes every socket with 1001, stops everything, deletes what it synthesized. */
  stop(): Promise<void>;
}

/**
 * Starts every `RealtimeApi` of the app's cloud assembly, each as its own
 * local stack (its own DynamoDB and port), after synthesizing the app when
 * given `--app`. Writes progress, the URLs, the functions' logs and a line
 * per request to `output` (by default the console for people, or every line
 * as written with `--verbose`).
 */
export async function startRealtimeLocal(
  options: RealtimeLocalOptions,
  env: Env = process.env,
  output: LocalConsole = createLocalConsole({ verbose: options.verbose ?? false }),
  watchRoots: readonly string[] = [process.cwd()],
): Promise<RealtimeLocal> {
  const log = (line: string) => output.log(line);
  const started = performance.now();
  const synthesize = (app: string, background = false) =>
    synthesizeWithCommand(app, { cwd: process.cwd(), env: synthesisEnv(env), log, background });
  // Every assembly synthesized stays until the end: an instance that started
  // on an older one may still be reading its bundle.
  const ownAssemblies: string[] = [];
  if (options.app !== undefined) ownAssemblies.push(await synthesize(options.app));
  const assembly = options.assembly ?? ownAssemblies[0] ?? '';
  const apis: RunningApi[] = [];
  let watchMode: WatchMode | undefined;
  const stopAll = async () => {
    await watchMode?.close();
    await Promise.all(apis.map((api) => api.stack.stop()));
    for (const dir of ownAssemblies) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const locations = findRealtimeApis(assembly);
    if (locations.length === 0) throw new Error(`no RealtimeApi in the cloud assembly ${assembly}`);
    const dynamo = engineFromEnvironment(env);
    for (const [index, location] of locations.entries()) {
      const dynamoDir =
        dynamo.dir === undefined || locations.length === 1
          ? dynamo.dir
          : join(dynamo.dir, location.path.replaceAll('/', '-'));
      const stack = await startLocalStack({
        assembly: location.outdir,
        stackId: location.stackId,
        apiPath: location.path,
        port: options.port === 0 ? 0 : options.port + index,
        engine: dynamo.engine,
        ...(dynamoDir === undefined ? {} : { dynamoDir }),
        schedules: true,
        env,
        log,
        requests: (report) => output.request(report),
        limits: gatewayLimits(env),
      });
      apis.push({ location, stack });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const first = apis[0]?.stack;
  const state = engineFromEnvironment(env).dir ?? 'in memory';
  log(`Local stack ready in ${seconds} s (DynamoDB engine: ${first?.engine}, ${state})`);
  for (const { location, stack } of apis) {
    log(`${stack.url}   ${location.path}`);
    log(`  Demo page:  ${stack.httpUrl}/`);
    log(`  Dev token:  curl -s '${stack.httpUrl}/dev/token?sub=alice&name=Alice'`);
  }

  const reload = async () => {
    if (options.app === undefined) return;
    const fresh = await synthesize(options.app, true);
    ownAssemblies.push(fresh);
    const locations = findRealtimeApis(fresh);
    for (const { location, stack } of apis) {
      const next = locations.find((candidate) => candidate.path === location.path);
      if (next !== undefined) await stack.reload(next.outdir);
    }
  };
  if (options.watch) {
    watchMode = startWatchMode(
      watchRoots,
      {
        stacks: () => apis.map((api) => api.stack),
        ...(options.app === undefined ? {} : { synthesize: reload }),
      },
      log,
    );
    await watchMode.ready;
    log(
      `Watching ${watchRoots.map((root) => relative(process.cwd(), root) || '.').join(', ')} for changes.`,
    );
  }
  return {
    apis,
    ...(watchMode === undefined ? {} : { watch: watchMode }),
    reload,
    stop: stopAll,
  };
}

/** API Gateway's idle and 2-hour limits, shortened by LOCAL_IDLE_TIMEOUT_S and LOCAL_MAX_CONNECTION_S. */
function gatewayLimits(env: Env) {
  return {
    ...(env.LOCAL_IDLE_TIMEOUT_S ? { idleTimeoutMs: Number(env.LOCAL_IDLE_TIMEOUT_S) * 1000 } : {}),
    ...(env.LOCAL_MAX_CONNECTION_S
      ? { maxConnectionMs: Number(env.LOCAL_MAX_CONNECTION_S) * 1000 }
      : {}),
  };
}

/**
 * The `realtime-local` command: starts the APIs and runs until SIGINT or
 * SIGTERM, then closes every socket with 1001 and exits 0 within 10 seconds
 * (PROTOCOL.md section 8). `ready` runs once they serve.
 */
export async function runRealtimeLocal(
  argv: readonly string[],
  env: Env = process.env,
  ready: (running: RealtimeLocal) => () => void = () => () => {},
  watchRoots?: readonly string[],
): Promise<void> {
  let options: RealtimeLocalOptions;
  try {
    options = parseOptions(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`realtime-local: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  let running: RealtimeLocal;
  try {
    running = await startRealtimeLocal(options, env, undefined, watchRoots);
  } catch (error) {
    console.error(`realtime-local: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return;
  }
  const release = ready(running);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing connections and stopping...`);
    setTimeout(() => process.exit(0), 9_000).unref();
    release();
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
