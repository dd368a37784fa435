import { isAbsolute } from 'node:path';
import { FunctionPoolError } from './errors.js';
import { ExecutionEnvironment } from './execution-environment.js';
import { type InitSlots, MACHINE_INIT_SLOTS } from './init-slots.js';
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
  /**
   * Limits how many instances init at once, shared with other pools.
   * @default MACHINE_INIT_SLOTS, one per core for the whole process
   */
  readonly initSlots?: InitSlots;
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
  /** When the last invocation was handed to an instance (`performance.now()`); 0 before any. */
  readonly lastInvokedAt: number;
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
/** A function invoked this recently is in use: a reload starts its new instances at once. */
const IN_USE_MS = 5_000;

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
  readonly #initSlots: InitSlots;
  readonly #stopWaitingForSlots: () => void;
  readonly #instances = new Set<Instance>();
  /** Most recently used last, so reuse keeps the fewest instances warm. */
  readonly #idle: Instance[] = [];
  /** Started by a reload ahead of work, initialising: the next invocations take them first. */
  readonly #starting: Instance[] = [];
  readonly #queue: Job[] = [];
  readonly #stopping = new Set<Promise<void>>();
  readonly #running = new Set<Promise<void>>();
  /** Reloads waiting for an init slot: `close` ends their wait. */
  readonly #slotWaits = new Set<() => void>();
  #generation = 0;
  /** While a reload's new instances initialise, the generation whose instances still serve. */
  #previous: number | undefined;
  #busy = 0;
  #coldStarts = 0;
  #invocations = 0;
  #lastInvokedAt = 0;
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
    this.#initSlots = options.initSlots ?? MACHINE_INIT_SLOTS;
    this.#stopWaitingForSlots = this.#initSlots.onRelease(() => this.#pump());
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
      lastInvokedAt: this.#lastInvokedAt,
    };
  }

  /**
   * Switches to `definition` (or the same definition's changed bundle) as
   * Lambda applies a code update: new instances init the new code while the
   * warm instances keep serving the old, so no invocation waits for the
   * reload; once the first new instance has initialised (or failed to), the
   * old idle instances are discarded, busy ones once their invocation ends,
   * and every later invocation runs the new code. Resolves then.
   */
  async reload(definition?: FunctionDefinition): Promise<void> {
    if (this.#closed) {
      throw new FunctionPoolError('pool_closed', `${this.#definition.name} is closed`);
    }
    if (definition !== undefined) this.#definition = checked(definition);
    const serving = this.#previous ?? this.#generation;
    this.#generation += 1;
    const generation = this.#generation;
    // Instances of a reload still initialising are superseded by this one; what
    // they print as they are stopped is not their code's (see terminate).
    const stops = this.#starting
      .splice(0)
      .map((instance) => this.#discard(instance, 'reloaded', { discardOutput: true }));
    // A function in use now gets new instances at once, as many as are busy
    // (at least one, init slots permitting), and its old code serves until
    // the first is ready; one not invoked lately switches now and inits on
    // its next invocation, as Lambda would, sparing this machine's cores.
    const inUse = this.#invocations > 0 && performance.now() - this.#lastInvokedAt < IN_USE_MS;
    const warm = inUse ? Math.max(1, this.#busy) : 0;
    const started: Instance[] = [];
    while (started.length < warm) {
      const instance = this.#startWithSlot();
      if (instance === undefined) break;
      started.push(instance);
    }
    if (warm > 0 && started.length === 0) {
      // Every slot is taken (other inits): the old code serves until one frees.
      this.#previous = serving;
      const instance = await this.#startOnceSlotFrees(generation);
      if (instance !== undefined) started.push(instance);
    }
    if (started.length > 0) {
      this.#previous = serving;
      await firstOf(
        started.map((instance) => instance.environment.initEnded),
        this.#initTimeoutMs,
      );
    }
    if (this.#generation === generation && !this.#closed) this.#switchToCurrent();
    await Promise.all(stops);
    this.#pump();
  }

  /** Starts an instance of `generation` once a slot frees; undefined if superseded, closed or past the init timeout. */
  #startOnceSlotFrees(generation: number): Promise<Instance | undefined> {
    return new Promise((resolve) => {
      const done = (instance: Instance | undefined) => {
        stopWaiting();
        clearTimeout(timer);
        this.#slotWaits.delete(giveUp);
        resolve(instance);
      };
      const giveUp = () => done(undefined);
      const attempt = () => {
        if (this.#closed || this.#generation !== generation) return done(undefined);
        const instance = this.#startWithSlot();
        if (instance !== undefined) done(instance);
      };
      const stopWaiting = this.#initSlots.onRelease(attempt);
      const timer = setTimeout(giveUp, this.#initTimeoutMs);
      this.#slotWaits.add(giveUp);
    });
  }

  /** Ends the old code's service: its idle instances are discarded, busy ones when they finish. */
  #switchToCurrent(): void {
    this.#previous = undefined;
    const old = this.#idle.filter((instance) => instance.generation !== this.#generation);
    this.#idle.splice(0, this.#idle.length, ...this.#idle.filter((i) => !old.includes(i)));
    for (const instance of old) void this.#discard(instance, 'reloaded');
  }

  /**
   * Terminates every instance and resolves once all are gone. Running and
   * queued invocations resolve with a `crash` failure; later calls to `invoke`
   * reject with `pool_closed`.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopWaitingForSlots();
      for (const giveUp of [...this.#slotWaits]) giveUp();
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
      const instance = this.#idle.pop();
      if (instance === undefined) {
        // Each invocation queued beyond the instances already initialising
        // starts one more (init slots permitting). Whichever instance is
        // free first, a warm one done with its invocation or a new one done
        // with its init, takes the next invocation: here cold starts share
        // this machine's cores, so an invocation that waited for "its" new
        // instance would often wait longer than for a warm one.
        if (this.#queue.length > this.#starting.length && this.#startWithSlot() !== undefined) {
          continue;
        }
        return;
      }
      const job = this.#queue.shift();
      if (job === undefined) return;
      const running = this.#run(instance, job);
      this.#running.add(running);
      void running.then(() => this.#running.delete(running));
    }
  }

  /** True for an instance whose code is the pool's, or the old code still serving during a reload. */
  #usable(instance: Instance): boolean {
    return instance.generation === this.#generation || instance.generation === this.#previous;
  }

  /**
   * Starts an instance if the pool has room and an init slot is free. It
   * holds the slot until its init ends (or the init timeout), then becomes
   * idle for the next invocation, unless a reload made its code old. Returns
   * undefined, starting nothing, when there is no room or no slot; the pool
   * pumps again when a slot frees or an instance comes back.
   */
  #startWithSlot(): Instance | undefined {
    if (this.#closed || this.#instances.size >= this.#maxInstances) return undefined;
    if (!this.#initSlots.tryTake()) return undefined;
    const instance = this.#start();
    this.#starting.push(instance);
    let initialising = true;
    const initialised = () => {
      if (!initialising) return;
      initialising = false;
      clearTimeout(timer);
      const index = this.#starting.indexOf(instance);
      if (index !== -1) this.#starting.splice(index, 1);
      if (this.#instances.has(instance)) {
        if (this.#usable(instance) && !this.#closed) this.#idle.push(instance);
        else void this.#discard(instance, 'reloaded');
      }
      // Frees the slot, which pumps every pool sharing it, this one included.
      this.#initSlots.release();
    };
    const timer = setTimeout(initialised, this.#initTimeoutMs);
    void instance.environment.initEnded.then(initialised);
    return instance;
  }

  #start(): Instance {
    const definition = this.#definition;
    const prefix = `[${definition.name}] `;
    const instance: Instance = {
      generation: this.#generation,
      environment: new ExecutionEnvironment(definition, {
        log: (line) => this.#log(prefix + line),
        initTimeoutMs: this.#initTimeoutMs,
        onExit: (environment, reason) =>
          queueMicrotask(() => {
            // An idle instance whose thread died (a stray timer threw, say) must
            // not be handed work. Judged after the microtasks already queued: a
            // thread that posts its init error and ends can have both handled in
            // one turn (Node delivers a worker's last messages as it reports the
            // exit), and the instance must first take the invocation that
            // started it, which then gets the init error; dropped before that,
            // it left the invocation queued and a second instance inited for it.
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
          }),
      }),
    };
    this.#instances.add(instance);
    this.#coldStarts += 1;
    return instance;
  }

  async #run(instance: Instance, job: Job): Promise<void> {
    this.#busy += 1;
    this.#invocations += 1;
    this.#lastInvokedAt = performance.now();
    const result = await instance.environment.run(job.event, this.#definition.timeoutMs);
    this.#busy -= 1;
    const current = this.#usable(instance);
    if (!this.#closed && current && instance.environment.reusable) this.#idle.push(instance);
    else void this.#discard(instance, current ? 'not reusable' : 'reloaded');
    job.resolve(result);
    this.#pump();
  }

  /** Forgets `instance` and ends its thread; tracked so `close` waits for it. */
  #discard(
    instance: Instance,
    reason: string,
    options?: { discardOutput: boolean },
  ): Promise<void> {
    this.#instances.delete(instance);
    const stopped = instance.environment.terminate(reason, options);
    this.#stopping.add(stopped);
    void stopped.then(() => this.#stopping.delete(stopped));
    return stopped;
  }
}

/** Resolves once any of `promises` has, or after `ms`. */
function firstOf(promises: readonly Promise<void>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([...promises, timeout]).finally(() => clearTimeout(timer));
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
