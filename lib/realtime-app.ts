import type { App } from 'aws-cdk-lib';
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
