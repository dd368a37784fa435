import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** What the CDK CLI turns on for `cdk synth`, and the local stack reads. */
const CLI_CONTEXT = {
  // Resources name their construct path (which API a resource is part of)
  // and their asset (where a function's bundle is).
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
};

/**
 * Synthesizes an app as `cdk synth` runs it: `command` in `cwd` through the
 * shell, told the output directory (CDK_OUTDIR) and the context of cdk.json
 * and cdk.context.json (CDK_CONTEXT_JSON). Its output goes to `log`.
 * @returns the cloud assembly's directory, which the caller deletes
 */
export async function synthesizeWithCommand(
  command: string,
  options: {
    readonly cwd: string;
    readonly env: Env;
    readonly log: (line: string) => void;
    /** Runs at the lowest CPU priority, while the stack keeps serving. */
    readonly background?: boolean;
  },
): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'realtime-local-'));
  const context = {
    ...contextOf(join(options.cwd, 'cdk.json')),
    ...contextOf(join(options.cwd, 'cdk.context.json'), false),
    ...CLI_CONTEXT,
  };
  const child = spawn(command, {
    cwd: options.cwd,
    shell: true,
    env: { ...options.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // At the lowest priority, with the bundlers it starts (children inherit it):
  // a synthesis while the stack serves (watch mode) must not starve the
  // sockets and HTTP of this machine's cores.
  if (options.background && child.pid !== undefined) {
    try {
      setPriority(child.pid, 19);
    } catch {
      // Not allowed here: the synthesis runs at normal priority.
    }
  }
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  });
  for (const line of output.split('\n')) if (line.trim() !== '') options.log(line);
  if (code !== 0 || !existsSync(join(outdir, 'manifest.json'))) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(
      code === 0
        ? `"${command}" wrote no cloud assembly: does it call app.synth()?`
        : `"${command}" failed (exit code ${code}):\n${output.trim().split('\n').slice(-20).join('\n')}`,
    );
  }
  return outdir;
}

/** The `context` of cdk.json (the whole file for cdk.context.json); none when absent. */
function contextOf(file: string, nested = true): Record<string, unknown> {
  if (!existsSync(file)) return {};
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return ((nested ? json.context : json) as Record<string, unknown> | undefined) ?? {};
}
