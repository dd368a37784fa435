// One Lambda execution environment: imports the bundle once (init), then runs
// the handler for each `invoke` message, one at a time. The messages are typed
// in worker-messages.ts. Plain JavaScript because the thread runs plain Node,
// whatever loader (tsx, vitest) the parent runs under.
import * as nodeModule from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const ACCOUNT = '000000000000';

// Lambda's Node.js runtime provides the AWS SDK v3 to bundles that leave a
// client out (the authorizer's Secrets Manager client): an `@aws-sdk/*`
// package the bundle's own folders lack is taken from the local stack's
// dependencies, wherever the assembly is. registerHooks came in Node 22.15;
// before it, the package must be reachable from the assembly's folder.
nodeModule.registerHooks?.({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith('@aws-sdk/') || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
      return nextResolve(specifier, { ...context, parentURL: import.meta.url });
    }
  },
});

// Read before user code runs, as the Lambda runtime does, so the handler cannot change them.
const {
  AWS_LAMBDA_FUNCTION_NAME: functionName,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memoryLimitInMB,
  AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
  AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
  AWS_REGION: region,
  _HANDLER: handlerName,
} = process.env;
const invokedFunctionArn = `arn:aws:lambda:${region}:${ACCOUNT}:function:${functionName}`;

/** Lambda's `errorType` and `errorMessage` of anything thrown. */
function describe(error) {
  if (typeof error === 'object' && error !== null && typeof error.message === 'string') {
    return { name: typeof error.name === 'string' ? error.name : 'Error', message: error.message };
  }
  return { name: 'Error', message: String(error) };
}

/** Logs a failure with its stack, as the Lambda runtime logs `Invoke Error` to CloudWatch. */
function logFailure(label, requestId, error) {
  const detail = error instanceof Error ? (error.stack ?? String(error)) : String(error);
  console.error(`${requestId}\tERROR\t${label}\t${detail}`);
}

// process.threadCpuUsage came in Node 23.9: on an older Node no CPU time is reported.
const measuresCpu = typeof process.threadCpuUsage === 'function';

/** This thread's CPU usage so far, for `cpuMsSince`; undefined where it cannot be measured. */
function cpuNow() {
  return measuresCpu ? process.threadCpuUsage() : undefined;
}

/** Milliseconds of CPU this thread has used since `since` (a `cpuNow()` value). */
function cpuMsSince(since) {
  if (since === undefined) return undefined;
  const { user, system } = process.threadCpuUsage(since);
  return (user + system) / 1000;
}

/** Imports the bundle and finds the handler: `{ handler }` or `{ error }`. */
async function init() {
  try {
    const module = await import(workerData.bundleUrl);
    const handler = workerData.handler.split('.').reduce((value, key) => value?.[key], module);
    if (typeof handler === 'function') return { handler };
    const error = {
      name: 'Runtime.HandlerNotFound',
      message: `${handlerName} is undefined or not exported`,
    };
    logFailure('Init Error', 'INIT', `${error.name}: ${error.message}`);
    return { error };
  } catch (error) {
    logFailure('Init Error', 'INIT', error);
    return { error: describe(error) };
  }
}

// This thread's own CPU, not the process's: the parent and other instances share the process.
const initCpu = cpuNow();
const { handler, error } = await init();
if (handler === undefined) {
  // No listener is left, so the thread ends; the parent discards it and the next invoke inits afresh.
  parentPort.postMessage({ type: 'init-error', error });
} else {
  parentPort.on('message', async ({ requestId, deadline, event }) => {
    const cpu = cpuNow();
    const context = {
      awsRequestId: requestId,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn,
      memoryLimitInMB,
      logGroupName,
      logStreamName,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      callbackWaitsForEmptyEventLoop: true,
    };
    try {
      const result = await handler(event, context);
      // Inside the try: a result structured clone refuses (a function, say) fails this invocation only.
      parentPort.postMessage({
        type: 'result',
        requestId,
        ok: true,
        result,
        cpuMs: cpuMsSince(cpu),
      });
    } catch (thrown) {
      logFailure('Invoke Error', requestId, thrown);
      parentPort.postMessage({
        type: 'result',
        requestId,
        ok: false,
        error: describe(thrown),
        cpuMs: cpuMsSince(cpu),
      });
    }
  });
  parentPort.postMessage({ type: 'ready', initCpuMs: cpuMsSince(initCpu) });
}
