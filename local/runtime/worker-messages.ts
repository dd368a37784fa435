/** An error as it crosses the thread boundary: Lambda's `errorType` and `errorMessage`, no stack. */
export interface ErrorShape {
  readonly name: string;
  readonly message: string;
}

/** What an instance's thread is started with (`workerData`). */
export interface WorkerStart {
  /** `file:` URL of the bundle. */
  readonly bundleUrl: string;
  /** Exported name, dotted for a nested export. */
  readonly handler: string;
}

/** The parent's request to run the handler once. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadline: number;
  readonly event: unknown;
}

/** What `worker.mjs` posts back: once after init, then once per invocation. */
export type WorkerMessage =
  | {
      readonly type: 'ready';
      /** CPU time of the thread's init (importing the bundle), in ms; absent before Node 23.9. */
      readonly initCpuMs?: number;
    }
  | { readonly type: 'init-error'; readonly error: ErrorShape }
  | {
      readonly type: 'result';
      readonly requestId: string;
      readonly ok: true;
      readonly result: unknown;
      /** CPU time of the thread while the handler ran, in ms; absent before Node 23.9. */
      readonly cpuMs?: number;
    }
  | {
      readonly type: 'result';
      readonly requestId: string;
      readonly ok: false;
      readonly error: ErrorShape;
      readonly cpuMs?: number;
    };
