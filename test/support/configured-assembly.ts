import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STACK_ID, type SynthOptions, synthesizeApp } from '../../lib/realtime-app.js';

/** A configured assembly of the app, in a temporary directory of its own. */
export interface ConfiguredAssembly {
  readonly outdir: string;
  remove(): void;
}

interface FunctionResources {
  Resources: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;
}

/**
 * The app synthesized as `cdk synth` would with `env`, its functions' code
 * linked from `bundled` (the run's assembly, which the global setup bundled
 * with esbuild). Settings reach the functions as environment variables, so
 * every configuration bundles the same code; linking it instead of bundling
 * again saves about 18 s of CPU a synthesis. Only the template is this
 * configuration's.
 */
export function synthesizeConfigured(
  prefix: string,
  env: NonNullable<SynthOptions['env']>,
  bundled: string,
): ConfiguredAssembly {
  const outdir = mkdtempSync(join(tmpdir(), `realtime-${prefix}-`));
  synthesizeApp(outdir, { env, context: { 'aws:cdk:bundling-stacks': [] } });
  const templateFile = `${STACK_ID}.template.json`;
  const read = (dir: string) =>
    JSON.parse(readFileSync(join(dir, templateFile), 'utf8')) as FunctionResources;
  const template = read(outdir);
  const bundledTemplate = read(bundled);
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const asset = bundledTemplate.Resources[logicalId]?.Metadata?.['aws:asset:path'];
    if (typeof asset !== 'string') {
      throw new Error(
        `${logicalId} has no bundle in ${bundled}: this configuration changed the functions`,
      );
    }
    resource.Metadata = { ...resource.Metadata, 'aws:asset:path': asset };
    if (!existsSync(join(outdir, asset)))
      symlinkSync(join(bundled, asset), join(outdir, asset), 'dir');
  }
  writeFileSync(join(outdir, templateFile), JSON.stringify(template, null, 1));
  return { outdir, remove: () => rmSync(outdir, { recursive: true, force: true }) };
}
