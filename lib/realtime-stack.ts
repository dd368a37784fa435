import { type CfnElement, CfnOutput, Duration, Names, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { RealtimeConfig } from './config.js';
import { pathInStack } from './constructs/path-in-stack.js';
import { RealtimeFunction } from './constructs/realtime-function.js';
import { handlerEntry } from './handler-needs.js';
import { RealtimeApi } from './realtime-api.js';
import { TokenVerification } from './realtime-api-props.js';
import { STAGE_POLICIES, type StagePolicy } from './stage-policies.js';

export {
  ACTION_HANDLERS,
  HANDLER_NAMES,
  type HandlerName,
  handlerId,
  PRESENCE_EVENTS,
  SWEEP_INTERVAL,
} from './handler-needs.js';

/**
 * The id of the app's `RealtimeApi` in its stack. Its resources keep the
 * logical ids they had when the stack built them itself (see
 * `allocateLogicalId`), so a deployment from before the construct is
 * updated in place: a new logical id would replace the table and the API.
 */
export const APP_API_ID = 'Realtime';

/** Properties of a `RealtimeStack`. */
export interface RealtimeStackProps extends StackProps {
  /** Validated configuration, usually from `readConfig`. */
  readonly config: RealtimeConfig;
}

/**
 * The standalone app's stack: one `RealtimeApi` configured from context and
 * environment (`readConfig`) and the deployment stage's policy, its outputs,
 * and, for the benchmark only, the reference handler.
 */
export class RealtimeStack extends Stack {
  /** The API with everything it is made of. */
  readonly realtime: RealtimeApi;

  constructor(scope: Construct, id: string, props: RealtimeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const stage = STAGE_POLICIES[config.stage];

    this.realtime = new RealtimeApi(this, APP_API_ID, {
      tokens: tokenVerification(this, config),
      ...(config.allowedOrigins === undefined ? {} : { allowedOrigins: config.allowedOrigins }),
      limits: config.limits,
      ...(config.limits.historyTtlHours === undefined
        ? {}
        : { historyRetention: Duration.hours(config.limits.historyTtlHours) }),
      stageName: config.stageName,
      throttle: config.stageThrottle,
      removalPolicy: stage.removalPolicy,
      pointInTimeRecovery: stage.pointInTimeRecovery,
      logRetention: stage.logRetention,
      ...(config.fanOutChunkSize === undefined ? {} : { fanOutShareSize: config.fanOutChunkSize }),
      monitoring: config.alarmEmail === undefined ? {} : { alarmEmail: config.alarmEmail },
      // The dimension the deployed metrics have always carried.
      serviceName: this.stackName,
    });
    if (config.referenceHandler) addReferenceHandler(this.realtime, stage);

    const { realtime } = this;
    new CfnOutput(this, 'WebSocketUrl', {
      value: realtime.url,
      description: 'URL clients connect to, with ?token=<JWT>',
    });
    new CfnOutput(this, 'CallbackUrl', {
      value: realtime.callbackUrl,
      description: 'Management API (@connections) of the stage',
    });
    new CfnOutput(this, 'PublishFunctionName', {
      value: realtime.publishFunction.functionName,
      description: 'Function other backends invoke (lambda:InvokeFunction) to publish',
    });
    new CfnOutput(this, 'PublishFunctionArn', {
      value: realtime.publishFunction.functionArn,
      description: 'ARN to grant lambda:InvokeFunction on, for backends that publish',
    });
    if (realtime.jwtSecret !== undefined) {
      new CfnOutput(this, 'JwtSecretArn', {
        value: realtime.jwtSecret.secretArn,
        description: 'Secrets Manager secret holding the HS256 secret token issuers sign with',
      });
    }
    if (realtime.dashboard !== undefined) {
      new CfnOutput(this, 'DashboardUrl', {
        value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${realtime.dashboard.dashboardName}`,
        description: 'CloudWatch dashboard of the stack',
      });
    }
  }

  /**
   * Lets `grantee` (a role of another service in this app) invoke the publish
   * function, and nothing else of the stack.
   * @example stack.grantPublish(apiHandler);
   */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.realtime.grantPublish(grantee);
  }

  /**
   * The logical id a resource had before the API was a construct: its path
   * without the `RealtimeApi`'s id, allocated as CDK allocates any other.
   */
  protected override allocateLogicalId(element: CfnElement): string {
    const inStack = pathInStack(element);
    if (inStack[0] !== APP_API_ID || inStack.length < 2) return super.allocateLogicalId(element);
    return uniqueIdOfPath(inStack.slice(1));
  }
}

/**
 * CDK's logical id of a resource at `path` in a stack: `Names.uniqueId` of a
 * detached construct at that path, so the hashing stays CDK's own.
 */
function uniqueIdOfPath(path: readonly string[]): string {
  let scope = new Construct(undefined as unknown as Construct, '');
  for (const id of path) scope = new Construct(scope, id);
  return Names.uniqueId(scope);
}

/** How tokens are verified: a JWKS, the secret whose ARN was given, or a generated secret. */
function tokenVerification(scope: Construct, config: RealtimeConfig): TokenVerification {
  const claims = {
    ...(config.jwtIssuer === undefined ? {} : { issuer: config.jwtIssuer }),
    ...(config.jwtAudience === undefined ? {} : { audience: config.jwtAudience }),
  };
  switch (config.tokenKeys.kind) {
    case 'jwks':
      return TokenVerification.jwks(config.tokenKeys.jwksUrl, claims);
    case 'imported-secret':
      return TokenVerification.fromSecret(
        secretsmanager.Secret.fromSecretCompleteArn(scope, 'JwtSecret', config.tokenKeys.secretArn),
        claims,
      );
    case 'generated-secret':
      return TokenVerification.generatedSecret(claims);
  }
}

/**
 * The benchmark's reference handler as the one-way `refsend` route: a Scan
 * of the whole table per message, posted with Promise.all. Never in production.
 */
function addReferenceHandler(realtime: RealtimeApi, stage: StagePolicy): void {
  const reference = new RealtimeFunction(realtime, 'ReferenceSendHandler', {
    entry: handlerEntry('reference-send'),
    description: 'Benchmark reference only: Scan the table, post to all with Promise.all',
    logRetention: stage.logRetention,
    logRemovalPolicy: stage.removalPolicy,
    serviceName: realtime.serviceName,
    environment: { TABLE_NAME: realtime.table.tableName, CALLBACK_URL: realtime.callbackUrl },
  });
  iam.Grant.addToPrincipal({
    grantee: reference,
    actions: ['dynamodb:Scan', 'dynamodb:DeleteItem'],
    resourceArns: [realtime.table.tableArn],
  });
  realtime.webSocket.addOneWayRoute('refsend', reference);
  realtime.monitoring?.watchFunction(reference);
  realtime.grantManageConnections(reference);
}
