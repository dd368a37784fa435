import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  CRASH_ERROR_NAME,
  type InvokeError,
  type InvokeResult,
  TIMEOUT_ERROR_NAME,
} from './invoke-result.js';
import { type EnvironmentSource, lambdaEnvironment, workerFlags } from './lambda-environment.js';
import { forwardLines } from './line-forwarder.js';
import type { InvokeMessage, WorkerMessage, WorkerStart } from './worker-messages.js';

/** How one instance is started and reports. */
export interface EnvironmentOptions {
  /** Receives each line the function writes to stdout or stderr, unprefixed. */
  readonly log: (line: string) => void;
  /** Longest wait for the module's init before it counts as timed out. */
  readonly initTimeoutMs: number;
  /** Called once when the thread is gone, whoever ended it, with why. */
  readonly onExit: (environment: ExecutionEnvironment, reason: string) => void;
}

/** Something that ends the wait for the thread's next word. */
type Signal =
  | { readonly type: 'message'; readonly message: WorkerMessage }
  | { readonly type: 'exit'; readonly reason: string }
  | { readonly type: 'timeout' };

const WORKER_URL = new URL('./worker.mjs', import.meta.url);

/**
 * One Lambda execution environment on a worker thread: inits the bundle once,
 * then runs one invocation at a time until it fails hard or is terminated.
 */
export class ExecutionEnvironment {
  readonly #worker: Worker;
  readonly #options: EnvironmentOptions;
  readonly #exited: Promise<void>;
  readonly #initEnded: Promise<void>;
  #endInit: () => void = () => {};
  #initialised = false;
  #gone = false;
  /** Why the parent ended the thread; set before terminating so the exit is reported as that. */
  #stopReason: string | undefined;
  /** Set when the parent no longer wants the thread's output (see `terminate`). */
  #silenced = false;
  #uncaught: unknown;
  #waiter: ((signal: Signal) => void) | undefined;
  readonly #inbox: Signal[] = [];

  constructor(source: EnvironmentSource, options: EnvironmentOptions) {
    this.#options = options;
    this.#initEnded = new Promise((resolve) => {
      this.#endInit = resolve;
    });
    const env = lambdaEnvironment(source);
    const start: WorkerStart = {
      bundleUrl: pathToFileURL(source.bundle).href,
      handler: source.handler,
    };
    this.#worker = new Worker(WORKER_URL, {
      workerData: start,
      env,
      // Not the parent's: tsx or vitest loaders must not leak into the function's thread.
      execArgv: workerFlags(env),
      stdout: true,
      stderr: true,
      name: source.name,
      // Lambda's Node runs handlers on a main thread with V8's default stack
      // (under 1 MB); a worker's default is 4 MB and would hide deep recursion.
      resourceLimits: { stackSizeMb: 1 },
    });
    const log = (line: string) => {
      if (!this.#silenced) options.log(line);
    };
    forwardLines(this.#worker.stdout, log);
    forwardLines(this.#worker.stderr, log);
    this.#worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready' || message.type === 'init-error') this.#endInit();
      this.#deliver({ type: 'message', message });
    });
    // An uncaught exception or unhandled rejection ends the thread; remember it for the exit report.
    this.#worker.on('error', (error) => {
      this.#uncaught = error;
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#gone = true;
        this.#endInit();
        const reason = this.#stopReason ?? exitReason(this.#uncaught, code);
        this.#deliver({ type: 'exit', reason });
        options.onExit(this, reason);
        resolve();
      });
    });
  }

  /**
   * Resolves once the module's init is over, whatever its outcome (ready,
   * failed, or the thread gone), whether or not an invocation has asked yet.
   */
  get initEnded(): Promise<void> {
    return this.#initEnded;
  }

  /** True while the thread is up, initialised and not being stopped: it can take another invocation. */
  get reusable(): boolean {
    return this.#initialised && !this.#gone && this.#stopReason === undefined;
  }

  /** True when the thread exited without the parent asking. */
  get crashed(): boolean {
    return this.#gone && this.#stopReason === undefined;
  }

  /**
   * Runs one invocation, initialising first on the environment's first use.
   * A timeout, a failed init or a dead thread leaves the environment not reusable.
   */
  async run(event: unknown, timeoutMs: number): Promise<InvokeResult> {
    const started = performance.now();
    const coldStart = !this.#initialised;
    let initCpuMs = 0;
    /** The invocation's CPU with its init's, when the thread measured it. */
    const withInit = (cpuMs: number | undefined) =>
      cpuMs === undefined ? {} : { cpuMs: initCpuMs + cpuMs };
    const fail = (error: InvokeError, cpuMs?: number): InvokeResult => ({
      ok: false,
      error,
      coldStart,
      durationMs: performance.now() - started,
      ...withInit(cpuMs),
    });

    if (coldStart) {
      const init = await this.#next(this.#options.initTimeoutMs);
      if (init.type === 'timeout') {
        void this.terminate('init timed out');
        return fail(timedOut('Init', this.#options.initTimeoutMs));
      }
      if (init.type === 'exit') return fail(crashed(init.reason));
      if (init.message.type === 'init-error') {
        void this.terminate('init failed');
        return fail({ kind: 'error', ...init.message.error });
      }
      if (init.message.type !== 'ready') {
        void this.terminate('unexpected message');
        return fail(crashed(`Runtime sent ${init.message.type} before init completed`));
      }
      this.#initialised = true;
      initCpuMs = init.message.initCpuMs ?? 0;
    }

    const request: InvokeMessage = {
      type: 'invoke',
      requestId: randomUUID(),
      deadline: Date.now() + timeoutMs,
      event,
    };
    try {
      this.#worker.postMessage(request);
    } catch (error) {
      // The event itself cannot cross (structured clone refused it); the environment is untouched.
      return fail({ kind: 'error', ...describe(error) });
    }

    const reply = await this.#next(timeoutMs);
    if (reply.type === 'timeout') {
      // Lambda stops a timed-out invocation's environment and starts a fresh one for the next.
      void this.terminate('timed out');
      return fail(timedOut('Task', timeoutMs));
    }
    if (reply.type === 'exit') return fail(crashed(reply.reason));
    const message = reply.message;
    if (message.type !== 'result' || message.requestId !== request.requestId) {
      void this.terminate('unexpected message');
      return fail(crashed(`Runtime sent ${message.type} out of turn`));
    }
    if (!message.ok) return fail({ kind: 'error', ...message.error }, message.cpuMs);
    return {
      ok: true,
      result: message.result,
      coldStart,
      durationMs: performance.now() - started,
      ...withInit(message.cpuMs),
    };
  }

  /**
   * Ends the thread (a running invocation then fails as a crash with `reason`)
   * and resolves once it is gone. Idempotent.
   *
   * With `discardOutput`, nothing the thread writes is logged from now on:
   * for an instance whose code is superseded while its module still loads.
   * A thread stopped half-way through evaluating a CommonJS package (the AWS
   * SDK, imported from node_modules by the watch mode's rebuilt bundles)
   * goes on for a moment with that package's exports half-made, and its init
   * fails with errors that are the stop's, not the code's (`LambdaClient is
   * not a constructor`, `loadConfig is not a function`).
   */
  terminate(reason: string, { discardOutput = false } = {}): Promise<void> {
    if (discardOutput) this.#silenced = true;
    if (!this.#gone && this.#stopReason === undefined) {
      this.#stopReason = `Runtime stopped: ${reason}`;
      void this.#worker.terminate();
    }
    return this.#exited;
  }

  /** Waits for the thread's next message or exit, at most `timeoutMs`. */
  #next(timeoutMs: number): Promise<Signal> {
    const queued = this.#inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve({ type: 'timeout' });
      }, timeoutMs);
      this.#waiter = (signal) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(signal);
      };
    });
  }

  #deliver(signal: Signal): void {
    if (this.#waiter === undefined) this.#inbox.push(signal);
    else this.#waiter(signal);
  }
}

function timedOut(phase: 'Init' | 'Task', ms: number): InvokeError {
  // Lambda's wording: "Task timed out after 3.00 seconds".
  const seconds = (ms / 1000).toFixed(2);
  return {
    kind: 'timeout',
    name: TIMEOUT_ERROR_NAME,
    message: `${phase} timed out after ${seconds} seconds`,
  };
}

function crashed(reason: string): InvokeError {
  return { kind: 'crash', name: CRASH_ERROR_NAME, message: reason };
}

function exitReason(uncaught: unknown, code: number): string {
  if (uncaught === undefined) return `Runtime exited with exit code ${code}`;
  const { name, message } = describe(uncaught);
  return `Runtime exited with error: ${name}: ${message}`;
}

function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}
