import { inject } from 'vitest';
import type { EngineName } from '../../local/dynamo/engine.js';
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../local/local-stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the `stacks` project (isolate: false): its files share the stacks of {@link plainLocalStack}. */
    shareLocalStacks: boolean;
  }
}

/** A local stack a test file uses: the file stops it with `release` when done. */
export interface PlainStack {
  readonly stack: LocalStack;
  /** Stops the stack unless it is shared; either way it logs to the file no more. */
  release(): Promise<void>;
}

interface Shared {
  readonly stack: Promise<LocalStack>;
  /** Where the stack's lines go: the log of the file using it now. */
  readonly sink: { to: (line: string) => void };
}

/** Per worker: this module lives as long as the worker in an isolate: false project. */
const shared = new Map<EngineName, Shared>();
const discard = () => {};

/**
 * A local stack on `engine` running the global setup's assembly with no
 * settings of its own, whose lines go to `log` until released.
 *
 * In the `stacks` project the files of one worker share it: started by the
 * first, kept running between files, and gone with the worker (vitest ends
 * it with SIGTERM; exiting then takes DynamoDB Local's JVM along). What a
 * stack costs before it is warm (the JVM's start, each function's first
 * instances, the JIT warming both) is about half the CPU of a file such as
 * protocol.test.ts, paid here once per worker instead of once per file. The
 * files that share name every room and user afresh and never read the whole
 * table, so none sees another's data; a file that scans the table, changes
 * the stack's settings or counts its calls starts its own.
 */
export async function plainLocalStack(
  engine: EngineName,
  log: (line: string) => void,
): Promise<PlainStack> {
  if (!inject('shareLocalStacks')) {
    return ownLocalStack({ assembly: inject('cdkOutdir'), engine, env: {}, log });
  }
  let entry = shared.get(engine);
  if (entry === undefined) {
    exitOnTerm();
    const sink = { to: log };
    const stack = startLocalStack({
      assembly: inject('cdkOutdir'),
      engine,
      env: {},
      log: (line) => sink.to(line),
    });
    entry = { stack, sink };
    shared.set(engine, entry);
    // A stack that failed to start is not kept: the next file tries again.
    stack.catch(() => shared.delete(engine));
  }
  const { sink } = entry;
  sink.to = log;
  const stack = await entry.stack;
  return {
    stack,
    release: async () => {
      if (sink.to === log) sink.to = discard;
    },
  };
}

/** A stack of the file's own, with settings of its own: `release` stops it. */
export async function ownLocalStack(options: LocalStackOptions): Promise<PlainStack> {
  const stack = await startLocalStack(options);
  return { stack, release: () => stack.stop() };
}

let exiting = false;

/** Exits on vitest's SIGTERM, so that the 'exit' handlers stop DynamoDB Local's JVMs. */
function exitOnTerm(): void {
  if (exiting) return;
  exiting = true;
  process.once('SIGTERM', () => process.exit(0));
}
