import { resolve } from 'node:path';
import { watch } from 'chokidar';

/** Folders never watched: dependencies, build output, version control. */
const IGNORED = /(^|[\\/])(node_modules|\.git|cdk\.out|dist|coverage|\.scratch)([\\/]|$)/;

/**
 * How long chokidar waits for a file unlinked by a save to come back (a
 * replace by rename, a delete and recreate) before reporting it gone; its
 * default is 100 ms, and a save should reload as soon as it can.
 */
const ATOMIC_MS = 50;

/** A running watcher. */
export interface CodeWatcher {
  /** Resolves once the initial scan is done and changes are reported. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Watches `roots` for saves, whatever way the editor writes: in place, by
 * writing a temporary file and renaming it over the original, or by deleting
 * and recreating it. chokidar follows each of these (raw `fs.watch` loses a
 * file replaced by rename on Linux, since it watches the old inode). Changes
 * arriving within `settleMs` of each other are reported together, once, as
 * absolute paths.
 */
export function watchCode(
  roots: readonly string[],
  onChange: (files: readonly string[]) => void,
  settleMs = 50,
): CodeWatcher {
  const watcher = watch(
    roots.map((root) => resolve(root)),
    {
      ignored: (path) => IGNORED.test(path),
      ignoreInitial: true,
      // Reports a replace-by-rename as one change of the file, not unlink and add.
      atomic: ATOMIC_MS,
    },
  );
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const changed = (path: string) => {
    pending.add(resolve(path));
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...pending];
      pending.clear();
      onChange(files);
    }, settleMs);
  };
  watcher.on('add', changed).on('change', changed).on('unlink', changed);
  const ready = new Promise<void>((done) => watcher.once('ready', () => done()));
  return {
    ready,
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
