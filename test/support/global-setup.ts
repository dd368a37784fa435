import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { synthesizeApp } from './synth.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Cloud assembly of the app, synthesized once per run with real esbuild bundles. */
    cdkOutdir: string;
  }
}

/**
 * Synthesizes the real app once per test run, bundling every function, into
 * a temporary directory that tests read through `inject('cdkOutdir')`.
 */
export default function setup(project: TestProject): () => void {
  const outdir = mkdtempSync(join(tmpdir(), 'realtime-cdk-out-'));
  const started = performance.now();
  synthesizeApp(outdir);
  // Stands in for the Lambda runtime, which provides the AWS SDK v3 to bundles
  // that leave a client out (the authorizer's Secrets Manager client).
  symlinkSync(join(process.cwd(), 'node_modules'), join(outdir, 'node_modules'), 'dir');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`global setup: synthesized the app with bundles in ${seconds} s`);
  project.provide('cdkOutdir', outdir);
  return () => rmSync(outdir, { recursive: true, force: true });
}
