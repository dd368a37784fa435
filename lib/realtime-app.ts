import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { type ConfigEnv, readConfig } from './config.js';
import { RealtimeStack } from './realtime-stack.js';

/** The id, and CloudFormation name, of the stack. */
export const STACK_ID = 'Realtime';

/**
 * Adds the Realtime stack to `app`, configured from the app's context and
 * then `env`. The stack is environment-agnostic: account and region come
 * from the deployment.
 */
export function addRealtimeStack(app: App, env: ConfigEnv = process.env): RealtimeStack {
  return new RealtimeStack(app, STACK_ID, {
    config: readConfig(app.node, env),
    description: 'Serverless WebSocket backend: API Gateway WebSocket API, Lambda, DynamoDB',
  });
}

const CDK_JSON = new URL('../cdk.json', import.meta.url);

/** The context of cdk.json (feature flags), which `cdk synth` passes to the app. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context?: object };
  return { ...cdkJson.context };
}

/** Options of an in-process synthesis. */
export interface SynthOptions {
  /** CDK context, as `cdk synth -c NAME=value` would give it. */
  readonly context?: Record<string, unknown>;
  /** Environment the configuration falls back to. */
  readonly env?: ConfigEnv;
}

/**
 * Synthesizes the app into `outdir` as `cdk synth` does, bundling every
 * function with esbuild: the cloud assembly the local stack runs and the
 * bundle tests load.
 */
export function synthesizeApp(outdir: string, options: SynthOptions = {}): void {
  const app = new App({
    outdir,
    context: {
      ...cdkJsonContext(),
      // What the CLI sets: resources name their construct path and asset.
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:enable-asset-metadata': true,
      ...options.context,
    },
  });
  addRealtimeStack(app, options.env ?? {});
  app.synth();
}
