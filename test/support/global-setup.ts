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
  // One temporary folder for the run, removed at its end: the test files and
  // the processes they start inherit it as TMPDIR, so what they leave there
  // goes with it (aws-cdk-lib gives every App without an outdir a fresh
  // cdk.out folder in the temporary folder and never removes it: about 120
  // folders, 30 MB, a run).
  const scratch = mkdtempSync(join(tmpdir(), 'realtime-tests-'));
  process.env.TMPDIR = scratch;
  const outdir = mkdtempSync(join(scratch, 'realtime-cdk-out-'));
  // V8's code cache for the run's Node processes and their worker threads
  // (the test files' forks inherit it; Node reads it at start): the bundles
  // are compiled once, not at each of the local stacks' hundreds of cold
  // starts (about a third of an init's CPU), and aws-cdk-lib once per run.
  // The benches run without it, so the init CPU they report stays Lambda's.
  const compileCache = mkdtempSync(join(scratch, 'realtime-compile-cache-'));
  process.env.NODE_COMPILE_CACHE = compileCache;
  // aws-cdk-lib's CloudFormation validation after every synthesis, here, in
  // the test files and in the processes they start: off, and asked directly
  // where a test asserts on it (see test/support/cloudformation-validation.ts).
  process.env.CDK_VALIDATION = 'false';
  const started = performance.now();
  synthesizeApp(outdir);
  // Stands in for the Lambda runtime, which provides the AWS SDK v3 to bundles
  // that leave a client out (the authorizer's Secrets Manager client).
  symlinkSync(join(process.cwd(), 'node_modules'), join(outdir, 'node_modules'), 'dir');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`global setup: synthesized the app with bundles in ${seconds} s`);
  project.provide('cdkOutdir', outdir);
  const removeScratch = () => rmSync(scratch, { recursive: true, force: true });
  // Again when this process exits: worker processes still exiting after the
  // teardown write their compile cache there as they go.
  process.once('exit', removeScratch);
  return removeScratch;
}
