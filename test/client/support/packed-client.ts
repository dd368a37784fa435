import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository's root, where `npm pack -w client` runs. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The client package as `npm pack` made it, installed into a project of its own. */
export interface PackedClient {
  /** Paths inside the tarball, as `npm pack` listed them. */
  readonly files: readonly string[];
  /** The consumer project: nothing in it but the installed tarball. */
  readonly project: string;
  /** The installed package's directory, under the project's node_modules. */
  readonly installed: string;
}

/** The JSON `npm pack --json` prints, as far as it is read here. */
type PackReport = readonly { readonly filename: string; readonly files: { path: string }[] }[];

/**
 * Packs `client/` with `npm pack` (its `prepack` builds dist/ afresh) into
 * `directory`, then installs the tarball into a new project there, offline:
 * it has no dependencies to fetch.
 */
export async function packAndInstallClient(directory: string): Promise<PackedClient> {
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--pack-destination', directory, '-w', 'client'],
    ROOT,
  );
  const [packed] = JSON.parse(stdout) as PackReport;
  if (packed === undefined) throw new Error(`npm pack reported no package: ${stdout}`);
  const project = join(directory, 'consumer');
  await mkdir(project);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  const tarball = join(directory, packed.filename);
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
  return {
    files: packed.files.map((file) => file.path),
    project,
    installed: join(project, 'node_modules', 'serverless-websocket-client'),
  };
}

/** Runs a command; a failure carries what it printed. */
export async function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeout = 60_000,
  env: Readonly<Record<string, string>> = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await promisify(execFile)(command, args, {
      cwd,
      timeout,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}
