import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where esbuild bundles the functions from, and the lock file that pins their dependencies. */
export interface BundlingRoot {
  /** The project's root: every entry must be under it (NodejsFunction's rule). */
  readonly projectRoot: string;
  readonly lockFile: string;
}

/** Lock files of the package managers NodejsFunction knows, in its order. */
const LOCK_FILES = ['pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package-lock.json'];

/** This repository's root, when the construct runs from its sources. */
const SOURCE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * In this repository, its own root and package-lock.json. Installed as a
 * package (no lock file of its own), the consumer's project: the nearest
 * directory above the working directory with a lock file, as `cdk synth`
 * runs from the project, where the package and its dependencies are installed.
 */
export function bundlingRoot(cwd: string = process.cwd()): BundlingRoot {
  const own = join(SOURCE_ROOT, 'package-lock.json');
  if (existsSync(own)) return { projectRoot: SOURCE_ROOT, lockFile: own };
  for (let dir = cwd; ; dir = dirname(dir)) {
    const lockFile = LOCK_FILES.map((name) => join(dir, name)).find((file) => existsSync(file));
    if (lockFile !== undefined) return { projectRoot: dir, lockFile };
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `RealtimeApi bundles its functions with esbuild from your project, found by its lock file ` +
      `(${LOCK_FILES.join(', ')}), but there is none in ${cwd} or above: run cdk synth from ` +
      'your project, after installing its dependencies.',
  );
}
