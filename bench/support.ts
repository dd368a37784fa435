import { cpus, totalmem } from 'node:os';
import { forEachBounded } from '../lambdas/domain/concurrency.js';

/** The machine a bench ran on, for its results file. */
export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Runs `work` over `items`, `limit` at a time, and throws the first failure. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const [failure] = await forEachBounded(items, limit, work);
  if (failure !== undefined) throw failure;
}

export const round = (value: number, digits: number) =>
  Math.round(value * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Progress goes to stderr, so stdout holds the figures alone. */
export const log = (line: string) => console.error(`[bench] ${line}`);

/** Prints `usage` and exits when the command line asks for help (`--help` or `-h`). */
export function answerHelp(usage: string, args: readonly string[] = process.argv.slice(2)): void {
  if (!args.includes('--help') && !args.includes('-h')) return;
  console.log(usage.trim());
  process.exit(0);
}
