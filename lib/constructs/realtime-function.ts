import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metric-names.js';
import { BUNDLING_METADATA, type BundlingRecord } from './bundling-metadata.js';
import { bundlingRoot } from './bundling-root.js';
import { EsbuildBatch } from './esbuild-code.js';

// In ESM output esbuild turns the `require('node:https')` of any CommonJS
// module it bundles (the AWS SDK's CommonJS builds, wherever their ESM build
// is not picked) into a shim that throws "Dynamic require of node:https is
// not supported" when first called; a real `require` made from
// import.meta.url satisfies it (https://github.com/evanw/esbuild/issues/1921).
/** esbuild's target: the Lambda runtime's Node major. */
const BUNDLE_TARGET = 'node24';

const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** Properties of a `RealtimeFunction`. */
export interface RealtimeFunctionProps {
  /** Absolute path of the TypeScript or JavaScript module that exports `handler`. */
  readonly entry: string;
  /**
   * The `service` of the function's logs and metrics (POWERTOOLS_SERVICE_NAME),
   * which alarms and dashboards select on.
   * @default - the stack's name
   */
  readonly serviceName?: string;
  /**
   * Maximum run time; API Gateway gives up on an integration after 29 seconds.
   * @default Duration.seconds(15)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB. Lambda's CPU share grows with it, a full vCPU at 1,769:
   * CPU-bound work costs the same at any size up to that and runs faster;
   * waiting costs more with memory.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Environment variables, besides NODE_OPTIONS and the Powertools settings
   * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE) this construct sets.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the function's log group when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Modules left out of the bundle and loaded from the Lambda runtime, which
   * ships the AWS SDK v3. For SDK clients a function loads only in some
   * configurations, so its cold start does not pay to parse them.
   * @default - none: everything is bundled, the AWS SDK included
   */
  readonly runtimeModules?: readonly string[];
  /**
   * Bundled together with the other functions of this batch, in one esbuild
   * build (see {@link EsbuildBatch}); the batch needs every function's
   * {@link functionBundling} before the first function is created.
   * @default - bundled on its own
   */
  readonly bundles?: EsbuildBatch;
  /**
   * Description shown in the Lambda console.
   * @default - no description
   */
  readonly description?: string;
}

/**
 * The project's Lambda function: Node.js 24 on arm64, bundled locally by
 * esbuild into minified ESM with source maps and the AWS SDK v3 inside (its
 * version pinned by the project's lock file and tree-shaken), logging to a log
 * group of its own with a retention, through a role that may write to that
 * log group and nowhere else.
 */
export class RealtimeFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: RealtimeFunctionProps) {
    // Created next to the function (not inside it) because `super` must run
    // before the function can own children.
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Instead of AWSLambdaBasicExecutionRole, which allows creating and writing
    // any log group of the account (Resource "*"): the log group exists already,
    // so the function only needs to write its streams. Inline, so the role
    // carries it from creation and grants stay in the role's default policy.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              // The group's Arn attribute ends in ':*', covering its log streams.
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const bundling = functionBundling(props.entry, props.runtimeModules);
    super(scope, id, {
      // Bundled by esbuild's JavaScript API rather than NodejsFunction's
      // `npx esbuild` (see EsbuildBatch): the same bundle, without npx's start.
      code: (props.bundles ?? new EsbuildBatch()).code(bundling),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(15),
      logGroup,
      role,
      ...(props.description === undefined ? {} : { description: props.description }),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
        // The metrics' `service` dimension, which the alarms and dashboard select
        // on: distinct per API, so two APIs or stages in one account stay apart.
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? Stack.of(scope).stackName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
    });
    this.node.addMetadata(BUNDLING_METADATA, bundling);
  }
}

/** How a function of `entry` is bundled, leaving `runtimeModules` to the Lambda runtime. */
export function functionBundling(
  entry: string,
  runtimeModules: readonly string[] = [],
): BundlingRecord {
  return {
    entry,
    projectRoot: bundlingRoot().projectRoot,
    externals: [...runtimeModules],
    banner: ESM_REQUIRE_BANNER,
    target: BUNDLE_TARGET,
  };
}
