import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { type ConfigEnv, type DeploymentStage, readConfig } from './config.js';
import { RealtimeStack } from './realtime-stack.js';

/**
 * The id of the stack in the app, whatever its stage: the cloud assembly's
 * artifact (`Realtime.template.json`) that `cdk deploy` and the local stack read.
 */
export const STACK_ID = 'Realtime';

/**
 * The CloudFormation stack name of a stage, distinct per stage so that both
 * can live in one account. prod keeps the name the stack had before stages
 * existed, so an existing deployment is updated in place: under a new name it
 * would be a second stack, with a new table and a new API URL.
 */
export function stackNameOf(stage: DeploymentStage): string {
  return stage === 'prod' ? STACK_ID : `${STACK_ID}-${stage}`;
}

/**
 * Adds the Realtime stack of the configured stage to `app`, configured from
 * the app's context and then `env`. The stack is environment-agnostic:
 * account and region come from the deployment.
 */
export function addRealtimeStack(app: App, env: ConfigEnv = process.env): RealtimeStack {
  const config = readConfig(app.node, env);
  return new RealtimeStack(app, STACK_ID, {
    config,
    stackName: stackNameOf(config.stage),
    description: `Serverless WebSocket backend (${config.stage}): API Gateway WebSocket API, Lambda, DynamoDB`,
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
