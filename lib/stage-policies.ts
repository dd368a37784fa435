import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { DeploymentStage } from './config.js';

/**
 * What each deployment stage keeps: prod keeps its data and logs through
 * `cdk destroy` and any replacement; dev is disposable, so `cdk destroy`
 * leaves nothing behind that costs money or holds a name.
 */

/** How a stage treats its stateful resources. */
export interface StagePolicy {
  /** Of the table, the log groups and a generated HS256 secret. */
  readonly removalPolicy: RemovalPolicy;
  /** Of every log group. */
  readonly logRetention: logs.RetentionDays;
  /** Continuous backups of the table, restorable to any second of the last 35 days. */
  readonly pointInTimeRecovery: boolean;
  /** Refuses DeleteTable, from the console and the API alike, until it is turned off. */
  readonly deletionProtection: boolean;
}

/** The policy of each deployment stage. */
export const STAGE_POLICIES: Readonly<Record<DeploymentStage, StagePolicy>> = {
  prod: {
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: logs.RetentionDays.ONE_MONTH,
    pointInTimeRecovery: true,
    deletionProtection: true,
  },
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_WEEK,
    // Its data is thrown away with the stack; backups of it are cost only.
    pointInTimeRecovery: false,
    deletionProtection: false,
  },
};
