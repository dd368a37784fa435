import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { FunctionPoolError } from './errors.js';
import { ExecutionEnvironment } from './execution-environment.js';
import { CRASH_ERROR_NAME, type InvokeResult } from './invoke-result.js';

export type { InvokeError, InvokeErrorKind, InvokeResult } from './invoke-result.js';
export { CRASH_ERROR_NAME, TIMEOUT_ERROR_NAME } from './invoke-result.js';

/** A Lambda function as the local stack runs it. */
export interface FunctionDefinition {
  /** Names the function in logs and in `AWS_LAMBDA_FUNCTION_NAME`. */
  readonly name: string;
  /** Absolute path of the ESM bundle file, e.g. `.../asset.abc/index.mjs`. */
  readonly bundle: string;
  /** The exported handler's name, e.g. `handler`. */
  readonly handler: string;
  /** The function's own variables; Lambda's runtime variables are added to them. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** @default 128 */
  readonly memoryMb?: number;
}

/** How a {@link FunctionPool} scales and logs. */
export interface FunctionPoolOptions {
  /** Most instances alive at once; further invocations queue in order. @default 16 */
  readonly maxInstances?: number;
  /** Receives each line the function logs, prefixed `[name] `. @default a write to process.stdout */
  readonly log?: (line: string) => void;
  /** Longest init of the module, as Lambda's 10 s init phase. @default 10000 */
  readonly initTimeoutMs?: number;
}

/** Counters of a pool, for tests and diagnostics. */
export interface FunctionPoolStats {
  /** Instances alive, busy or idle. */
  readonly instances: number;
  /** Instances running an invocation (or the init for one). */
  readonly busy: number;
  /** Instances started, each with one init. */
  readonly coldStarts: number;
  /** Invocations handed to an instance. */
  readonly invocations: number;
}

interface Job {
  readonly event: unknown;
  readonly resolve: (result: InvokeResult) => void;
}

interface Instance {
  readonly environment: ExecutionEnvironment;
  /** The reload generation it was started in; an older one is discarded when it comes back. */
  readonly generation: number;
}

const DEFAULT_MAX_INSTANCES = 16;
const DEFAULT_INIT_TIMEOUT_MS = 10_000;

/**
 * Runs one function as Lambda does: each instance (a worker thread) inits the
 * bundle once and serves one invocation at a time while warm; more instances
 * start under concurrency, up to `maxInstances`; a timed-out or crashed
 * instance is discarded.
 *
 * `invoke` resolves with a failed {@link InvokeResult} for anything the
 * function does; it rejects only with a {@link FunctionPoolError}, once the
 * pool is closed.
 */
export class FunctionPool {
  #definition: FunctionDefinition;
  readonly #maxInstances: number;
  readonly #initTimeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #instances = new Set<Instance>();
  /** Most recently used last, so reuse keeps the fewest instances warm. */
  readonly #idle: Instance[] = [];
  /** Started by a reload ahead of work, initialising: the next invocations take them first. */
  readonly #starting: Instance[] = [];
  readonly #queue: Job[] = [];
  readonly #stopping = new Set<Promise<void>>();
  readonly #running = new Set<Promise<void>>();
  #generation = 0;
  #busy = 0;
  #coldStarts = 0;
  #invocations = 0;
  #closed = false;

  constructor(definition: FunctionDefinition, options: FunctionPoolOptions = {}) {
    this.#definition = checked(definition);
    this.#maxInstances = options.maxInstances ?? DEFAULT_MAX_INSTANCES;
    if (!Number.isInteger(this.#maxInstances) || this.#maxInstances < 1) {
      throw new FunctionPoolError(
        'invalid_config',
        `maxInstances must be a positive integer, got ${this.#maxInstances}`,
      );
    }
    this.#initTimeoutMs = options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS;
    this.#log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /** Invokes the function once with `event`; queues while every allowed instance is busy. */
  invoke(event: unknown): Promise<InvokeResult> {
    if (this.#closed) {
      return Promise.reject(
        new FunctionPoolError('pool_closed', `${this.#definition.name} is closed`),
      );
    }
    return new Promise((resolve) => {
      this.#queue.push({ event, resolve });
      this.#pump();
    });
  }

  /** The pool's counters now. */
  stats(): FunctionPoolStats {
    return {
      instances: this.#instances.size,
      busy: this.#busy,
      coldStarts: this.#coldStarts,
      invocations: this.#invocations,
    };
  }

  /**
   * Discards the warm instances (busy ones once their invocation ends) so the
   * next invocation inits `definition`, or the same definition's changed bundle.
   */
  async reload(definition?: FunctionDefinition): Promise<void> {
    if (this.#closed) {
      throw new FunctionPoolError('pool_closed', `${this.#definition.name} is closed`);
    }
    if (definition !== undefined) this.#definition = checked(definition);
    this.#generation += 1;
    // New instances start initialising now, as many as the old code had but
    // no more than this machine has cores (more would only slow each other's
    // init). Lambda would start them as invocations arrive, each with its own
    // CPU; here the invocations that arrive together after a reload (watch
    // mode) would all cold-start at once on a few cores and crawl.
    const warm =
      this.#invocations > 0
        ? Math.min(Math.max(1, this.#instances.size), availableParallelism())
        : 0;
    const stops = [...this.#idle.splice(0), ...this.#starting.splice(0)].map((instance) =>
      this.#discard(instance, 'reloaded'),
    );
    for (let started = 0; started < warm; started += 1) {
      if (this.#instances.size >= this.#maxInstances) break;
      this.#starting.push(this.#start());
    }
    await Promise.all(stops);
    this.#pump();
  }

  /**
   * Terminates every instance and resolves once all are gone. Running and
   * queued invocations resolve with a `crash` failure; later calls to `invoke`
   * reject with `pool_closed`.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const job of this.#queue.splice(0)) {
        job.resolve({
          ok: false,
          error: { kind: 'crash', name: CRASH_ERROR_NAME, message: 'The function pool was closed' },
          coldStart: false,
          durationMs: 0,
        });
      }
      this.#idle.length = 0;
      this.#starting.length = 0;
      for (const instance of [...this.#instances])
        void this.#discard(instance, 'the pool was closed');
    }
    await Promise.all([...this.#stopping, ...this.#running]);
  }

  /** Hands queued jobs, in order, to idle instances or to new ones while there is room. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let instance = this.#idle.pop() ?? this.#starting.shift();
      if (instance === undefined) {
        if (this.#instances.size >= this.#maxInstances) return;
        instance = this.#start();
      }
      const job = this.#queue.shift();
      if (job === undefined) return;
      const running = this.#run(instance, job);
      this.#running.add(running);
      void running.then(() => this.#running.delete(running));
    }
  }

  #start(): Instance {
    const definition = this.#definition;
    const prefix = `[${definition.name}] `;
    const instance: Instance = {
      generation: this.#generation,
      environment: new ExecutionEnvironment(definition, {
        log: (line) => this.#log(prefix + line),
        initTimeoutMs: this.#initTimeoutMs,
        onExit: (environment, reason) => {
          // An idle instance whose thread died (a stray timer threw, say) must not be handed work.
          if (environment.crashed && this.#instances.delete(instance)) {
            const starting = this.#starting.indexOf(instance);
            if (starting !== -1) this.#starting.splice(starting, 1);
            const index = this.#idle.indexOf(instance);
            if (index !== -1) {
              this.#idle.splice(index, 1);
              this.#log(
                `${prefix}idle instance gone (${reason}); the next invocation starts a new one`,
              );
            }
            this.#pump();
          }
        },
      }),
    };
    this.#instances.add(instance);
    this.#coldStarts += 1;
    return instance;
  }

  async #run(instance: Instance, job: Job): Promise<void> {
    this.#busy += 1;
    this.#invocations += 1;
    const result = await instance.environment.run(job.event, this.#definition.timeoutMs);
    this.#busy -= 1;
    const current = instance.generation === this.#generation;
    if (!this.#closed && current && instance.environment.reusable) this.#idle.push(instance);
    else void this.#discard(instance, current ? 'not reusable' : 'reloaded');
    job.resolve(result);
    this.#pump();
  }

  /** Forgets `instance` and ends its thread; tracked so `close` waits for it. */
  #discard(instance: Instance, reason: string): Promise<void> {
    this.#instances.delete(instance);
    const stopped = instance.environment.terminate(reason);
    this.#stopping.add(stopped);
    void stopped.then(() => this.#stopping.delete(stopped));
    return stopped;
  }
}

function checked(definition: FunctionDefinition): FunctionDefinition {
  const problem = !isAbsolute(definition.bundle)
    ? `bundle must be an absolute path, got ${definition.bundle}`
    : !(definition.timeoutMs > 0 && Number.isFinite(definition.timeoutMs))
      ? `timeoutMs must be a positive number, got ${definition.timeoutMs}`
      : definition.handler === ''
        ? 'handler must name an export'
        : undefined;
  if (problem !== undefined) {
    throw new FunctionPoolError('invalid_config', `${definition.name}: ${problem}`);
  }
  return definition;
}
