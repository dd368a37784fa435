import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where `npm start` says which local stack is running, so other commands of
 * this checkout (`npm run publish`) find it without being told its port
 * (it picks a free one unless PORT is set). Git-ignored.
 */
export const RUNNING_STACK_FILE = fileURLToPath(
  new URL('../../.local-stack.json', import.meta.url),
);

/** A local stack `npm start` is running. */
export interface RunningStack {
  /** `http://127.0.0.1:<port>`: the Invoke API, management API, demo page. */
  readonly httpUrl: string;
  /** `ws://127.0.0.1:<port>/<stage>`. */
  readonly url: string;
  readonly pid: number;
}

/** Records the running stack; the returned function removes the record if it is still this one. */
export function recordRunningStack(
  stack: Omit<RunningStack, 'pid'>,
  file: string = RUNNING_STACK_FILE,
): () => void {
  const record: RunningStack = { httpUrl: stack.httpUrl, url: stack.url, pid: process.pid };
  writeFileSync(file, `${JSON.stringify(record)}\n`);
  return () => {
    if (findRunningStack(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/** The stack recorded in `file`, unless there is none or its process has ended. */
export function findRunningStack(file: string = RUNNING_STACK_FILE): RunningStack | undefined {
  let record: Partial<RunningStack>;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunningStack>;
  } catch {
    return undefined;
  }
  const { httpUrl, url, pid } = record;
  if (typeof httpUrl !== 'string' || typeof url !== 'string' || typeof pid !== 'number') {
    return undefined;
  }
  return isAlive(pid) ? { httpUrl, url, pid } : undefined;
}

function isAlive(pid: number): boolean {
  try {
    // Signal 0 checks that the process exists without touching it.
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
