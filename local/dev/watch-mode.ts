import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readBundlingRecords } from '../assembly/bundling-records.js';
import type { LocalStack } from '../local-stack.js';
import { BundleRebuilder } from './bundle-rebuilder.js';
import { type CodeWatcher, watchCode } from './code-watcher.js';

/** What watch mode reloads. */
export interface WatchTarget {
  /** The running APIs, each a local stack. */
  readonly stacks: () => readonly LocalStack[];
  /**
   * Synthesizes the app again and reloads every API from the new assembly;
   * absent when there is no app to synthesize (`--assembly`).
   */
  readonly synthesize?: () => Promise<void>;
}

/** A running watch mode. */
export interface WatchMode {
  /** Resolves once the watcher reports changes. */
  readonly ready: Promise<void>;
  /**
   * Resolves once every function has been built once in the background, so
   * saves rebuild incrementally (before, a save's first build is a full one).
   */
  warmed(): Promise<void>;
  /** Resolves once every reload started so far is done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reloads the local stack when code under `roots` changes, without stopping
 * it: a file some function's bundle is made of (its handler, the domain code,
 * your hooks) is rebuilt with esbuild for those functions alone and served to
 * their next invocation; any other file (the CDK app) synthesizes the app
 * again in a child process, so sockets and HTTP keep being served meanwhile.
 * Invocations in flight finish on the code they started with. A build that
 * fails prints the compiler's errors and leaves the last good code serving.
 * Reloads run one at a time; one line per reload says what changed.
 */
export function startWatchMode(
  roots: readonly string[],
  target: WatchTarget,
  log: (line: string) => void,
): WatchMode {
  const outRoot = rebuiltRoot(target.stacks());
  let rebuilders = rebuildersOf(target.stacks(), outRoot);
  let queue: Promise<void> = Promise.resolve();

  const reload = async (files: readonly string[]) => {
    const started = performance.now();
    const what = files.map((file) => relative(process.cwd(), file)).join(', ');
    const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    const affected = rebuilders.map(({ stack, rebuilder }) => ({
      stack,
      rebuilder,
      ids: [...new Set(files.flatMap((file) => rebuilder.affectedBy(file)))],
    }));
    const bundled = new Set(
      files.filter((file) => rebuilders.some(({ rebuilder }) => rebuilder.affectedBy(file).length)),
    );
    // A file that is gone and was no bundle's input is an editor's temporary
    // file (written, then renamed over the one saved): nothing to reload.
    const others = files.filter((file) => !bundled.has(file) && existsSync(file));
    if (bundled.size === 0 && others.length === 0) return;
    if (others.length > 0) {
      if (target.synthesize === undefined) {
        log(`${what} changed: no app to synthesize (--assembly), nothing reloaded`);
        return;
      }
      try {
        await target.synthesize();
      } catch (error) {
        log(
          `${what} changed: synthesis failed, still serving the last good code\n${String(error)}`,
        );
        return;
      }
      await Promise.all(rebuilders.map(({ rebuilder }) => rebuilder.close()));
      rebuilders = rebuildersOf(target.stacks(), outRoot);
      log(`${what} changed: re-synthesized, reloaded every function (${seconds()})`);
      return;
    }
    let count = 0;
    let buildMs = 0;
    for (const { stack, rebuilder, ids } of affected) {
      if (ids.length === 0) continue;
      const building = performance.now();
      const outcome = await rebuilder.rebuild(ids);
      buildMs += performance.now() - building;
      if (!outcome.ok) {
        log(`${what} changed: build failed, still serving the last good code\n${outcome.errors}`);
        return;
      }
      await stack.reloadFunctions(outcome.bundles);
      count += outcome.bundles.size;
    }
    const built = `${(buildMs / 1000).toFixed(1)} s building`;
    log(
      `${what} changed: reloaded ${count} function${count === 1 ? '' : 's'} (${seconds()}, ${built})`,
    );
  };

  const watcher: CodeWatcher = watchCode(roots, (files) => {
    queue = queue.then(() =>
      reload(files).catch((error: unknown) => log(`reload failed: ${String(error)}`)),
    );
  });
  return {
    ready: watcher.ready,
    warmed: async () => {
      await Promise.all(rebuilders.map(({ warming }) => warming));
    },
    idle: () => queue,
    async close() {
      await watcher.close();
      await queue;
      await Promise.all(rebuilders.map(({ rebuilder }) => rebuilder.close()));
    },
  };
}

/**
 * Where rebuilt bundles go: under the project's `node_modules/.cache`, so
 * the packages they import resolve from the project's node_modules.
 */
function rebuiltRoot(stacks: readonly LocalStack[]): string {
  const stack = stacks[0];
  const record =
    stack === undefined
      ? undefined
      : readBundlingRecords(stack.assembly, stack.model).values().next().value;
  const cache =
    record === undefined ? tmpdir() : join(record.projectRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  return mkdtempSync(join(cache, 'realtime-local-rebuilt-'));
}

/** A rebuilder per running API, for its functions that recorded how they were bundled. */
function rebuildersOf(stacks: readonly LocalStack[], outRoot: string) {
  return stacks.map((stack, index) => {
    const records = readBundlingRecords(stack.assembly, stack.model);
    const functions = [...records].flatMap(([functionId, record]) => {
      const bundle = stack.model.functions.get(functionId)?.bundle;
      return bundle === undefined ? [] : [{ functionId, record, bundle }];
    });
    const dir = join(outRoot, `${index}-${Date.now()}`);
    const rebuilder = new BundleRebuilder(functions, dir);
    return { stack, rebuilder, warming: rebuilder.warm() };
  });
}
