import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  DynamoEventSource,
  type DynamoEventSourceProps,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { MEMBER_SK_PREFIX, SWEEP_INDEX } from '../lambdas/adapters/table-keys.js';
import { ACTIONS } from '../protocol/messages.js';
import type { LimitSettings, RealtimeConfig } from './config.js';
import { RealtimeApi } from './constructs/realtime-api.js';
import { RealtimeFunction } from './constructs/realtime-function.js';
import { RealtimeMonitoring } from './constructs/realtime-monitoring.js';
import { RealtimeTable } from './constructs/realtime-table.js';
import { STAGE_POLICIES } from './stage-policies.js';

/** The protocol actions, each a two-way route of the API (PROTOCOL.md section 4). */
export const ACTION_HANDLERS = ACTIONS;

/** The handlers of lambdas/handlers/, one function each. */
export const HANDLER_NAMES = [
  'authorizer',
  'connect',
  'disconnect',
  'default',
  ...ACTION_HANDLERS,
  'sweep',
  'fanout',
  'publish',
  'presence',
  'prune',
] as const;

/**
 * How often the sweeper looks for connections whose `$disconnect` never
 * arrived. Pruning at fan-out finds them in active rooms first; the sweep
 * covers quiet rooms and connections in none, well before their 3-hour TTL.
 */
export const SWEEP_INTERVAL = Duration.minutes(10);

/** The name of a handler module in lambdas/handlers/. */
export type HandlerName = (typeof HANDLER_NAMES)[number];

/** What one handler needs from the stack. */
interface HandlerNeeds {
  /** The DynamoDB actions it calls on the table, and no others. */
  readonly tableActions: readonly string[];
  /** Queries the sweep index (only the sweeper: no other function reads an index). */
  readonly queriesSweepIndex?: boolean;
  /** Posts to connections through the management API. */
  readonly posts?: boolean;
  /** Fans out to rooms, so it may split a large room's posts across the fan-out workers. */
  readonly fansOut?: boolean;
  /**
   * Hands the connections its posts find gone to the `prune` function
   * (asynchronously), once claimed in their room (an UpdateItem).
   */
  readonly handsOffGone?: boolean;
  /** Verifies tokens, so it reads the HS256 secret or the JWKS. */
  readonly verifiesTokens?: boolean;
  /** Checks the Origin header of the handshake (the authorizer does). */
  readonly checksOrigin?: boolean;
  readonly timeout?: Duration;
  /** Modules taken from the Lambda runtime instead of the bundle. */
  readonly runtimeModules?: readonly string[];
}

const HANDLER_NEEDS: Readonly<Record<HandlerName, HandlerNeeds>> = {
  authorizer: {
    tableActions: [],
    verifiesTokens: true,
    checksOrigin: true,
    // Runs before every handshake; a slow one only delays the refusal.
    timeout: Duration.seconds(5),
    // Only HS256 with a Secrets Manager secret loads this client; bundled, it
    // would triple the bundle that every connect parses (JWKS mode never needs it).
    runtimeModules: ['@aws-sdk/client-secrets-manager'],
  },
  connect: { tableActions: ['Query', 'PutItem'] },
  // Removes its own connection and memberships; the stream announces the departures.
  disconnect: { tableActions: ['DeleteItem', 'UpdateItem'] },
  default: { tableActions: [] },
  // Posts nothing: the stream announces arrivals and departures.
  join: { tableActions: ['GetItem', 'UpdateItem', 'Query'] },
  leave: { tableActions: ['GetItem', 'UpdateItem'] },
  send: {
    tableActions: ['GetItem', 'UpdateItem', 'Query', 'PutItem'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
  },
  typing: {
    tableActions: ['GetItem', 'UpdateItem', 'Query'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
  },
  direct: { tableActions: ['GetItem', 'UpdateItem', 'Query'], posts: true, handsOffGone: true },
  history: { tableActions: ['GetItem', 'UpdateItem', 'Query'] },
  auth: { tableActions: ['GetItem', 'UpdateItem'], verifiesTokens: true },
  ping: { tableActions: ['GetItem', 'UpdateItem'] },
  sweep: {
    tableActions: ['DeleteItem', 'UpdateItem', 'Query'],
    queriesSweepIndex: true,
    // GetConnection, which ManageConnections allows; it posts no frame.
    posts: true,
    // Checks about 10,000 connections a minute; a sweep cut short resumes next time.
    timeout: Duration.minutes(5),
  },
  // Posts one share of a large room's fan-out; invoked by the functions that fan out.
  fanout: {
    tableActions: [],
    posts: true,
    // Its callers wait for it within their own 15 s.
    timeout: Duration.seconds(10),
  },
  // Invoked with IAM by other backends, not routed: `send`'s and `direct`'s
  // work without their admission (so no GetItem).
  publish: {
    tableActions: ['UpdateItem', 'Query', 'PutItem'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
  },
  // Fed by the table's stream: reads a room's members, posts its presence
  // frame, claims the gone connections it meets.
  presence: {
    tableActions: ['UpdateItem', 'Query'],
    posts: true,
    fansOut: true,
    handsOffGone: true,
  },
  // Invoked asynchronously with connections found gone: removes them and their memberships.
  prune: { tableActions: ['DeleteItem', 'UpdateItem'] },
};

/**
 * How the table's stream feeds the `presence` function. A second's batching
 * window coalesces a room's arrivals and departures into one frame per member
 * (PROTOCOL.md section 4.1 allows 2 seconds from change to member). Only
 * membership records pass the filter, so the `presence` function is not
 * invoked for messages, admissions or connections. Records of one room share
 * a partition key, so they are processed in order even across the parallel
 * batches of one shard. A room whose members cannot be read is retried from
 * its first change (batch item failures); a failing batch is split to find
 * the record at fault, and a change older than an hour is no longer news.
 */
export const PRESENCE_EVENTS: DynamoEventSourceProps = {
  startingPosition: lambda.StartingPosition.LATEST,
  batchSize: 1000,
  maxBatchingWindow: Duration.seconds(1),
  parallelizationFactor: 10,
  reportBatchItemFailures: true,
  bisectBatchOnError: true,
  retryAttempts: 20,
  maxRecordAge: Duration.hours(1),
  filters: [
    lambda.FilterCriteria.filter({
      dynamodb: { Keys: { sk: { S: lambda.FilterRule.beginsWith(MEMBER_SK_PREFIX) } } },
    }),
  ],
};

/** Properties of a `RealtimeStack`. */
export interface RealtimeStackProps extends StackProps {
  /** Validated configuration, usually from `readConfig`. */
  readonly config: RealtimeConfig;
}

/**
 * The serverless WebSocket backend: one table, one function per handler with
 * only the table actions it uses, the API with its stage, and the secret that
 * signs tokens unless they are verified against a JWKS.
 */
export class RealtimeStack extends Stack {
  /** The single table. */
  readonly table: RealtimeTable;
  /** The WebSocket API and its stage. */
  readonly api: RealtimeApi;
  /** One function per handler. */
  readonly functions: Readonly<Record<HandlerName, RealtimeFunction>>;
  /**
   * The function other backends invoke to send to a room or a user; see
   * {@link RealtimeStack.grantPublish}.
   */
  readonly publishFunction: RealtimeFunction;
  /** The HS256 secret, when tokens are not verified against a JWKS. */
  readonly jwtSecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: RealtimeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const stage = STAGE_POLICIES[config.stage];
    const logs = { logRetention: stage.logRetention, logRemovalPolicy: stage.removalPolicy };

    // Construct ids of stateful resources must never change: 'Data' (the table),
    // 'JwtSecret', and 'WebSocket' (the API id is part of every client's URL).
    this.table = new RealtimeTable(this, 'Data', stage);
    this.jwtSecret = jwtSecret(this, config);

    const tokenEnv: Record<string, string> = {
      ...(config.tokenKeys.kind === 'jwks'
        ? { JWT_JWKS_URL: config.tokenKeys.jwksUrl }
        : this.jwtSecret === undefined
          ? {}
          : { JWT_SECRET_ARN: this.jwtSecret.secretArn }),
      ...(config.jwtIssuer === undefined ? {} : { JWT_ISSUER: config.jwtIssuer }),
      ...(config.jwtAudience === undefined ? {} : { JWT_AUDIENCE: config.jwtAudience }),
    };
    const originEnv: Record<string, string> =
      config.allowedOrigins === undefined
        ? {}
        : { ALLOWED_ORIGINS: config.allowedOrigins.join(',') };
    const limitsEnv = limitsEnvironment(config.limits);

    const functions = {} as Record<HandlerName, RealtimeFunction>;
    for (const name of HANDLER_NAMES) {
      const needs = HANDLER_NEEDS[name];
      const usesTable = needs.tableActions.length > 0;
      const fn = new RealtimeFunction(this, handlerId(name), {
        entry: handlerEntry(name),
        description: `Realtime WebSocket ${name} handler`,
        ...logs,
        ...(needs.timeout === undefined ? {} : { timeout: needs.timeout }),
        ...(needs.runtimeModules === undefined ? {} : { runtimeModules: needs.runtimeModules }),
        environment: {
          ...(usesTable ? { TABLE_NAME: this.table.table.tableName, ...limitsEnv } : {}),
          ...(needs.verifiesTokens ? tokenEnv : {}),
          ...(needs.checksOrigin ? originEnv : {}),
        },
      });
      if (usesTable) {
        // Not Table.grant: with an index on the table it would add `<table>/index/*`
        // to every function's policy, and only the sweeper reads an index.
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: needs.tableActions.map((action) => `dynamodb:${action}`),
          resourceArns: [this.table.table.tableArn],
        });
      }
      if (needs.queriesSweepIndex) {
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: ['dynamodb:Query'],
          resourceArns: [`${this.table.table.tableArn}/index/${SWEEP_INDEX}`],
        });
      }
      if (needs.verifiesTokens) this.jwtSecret?.grantRead(fn);
      functions[name] = fn;
    }
    this.functions = functions;
    this.publishFunction = functions.publish;

    const reference = config.referenceHandler
      ? new RealtimeFunction(this, 'ReferenceSendHandler', {
          entry: handlerEntry('reference-send'),
          description: 'Benchmark reference only: Scan the table, post to all with Promise.all',
          ...logs,
          environment: { TABLE_NAME: this.table.table.tableName },
        })
      : undefined;
    if (reference !== undefined) {
      iam.Grant.addToPrincipal({
        grantee: reference,
        actions: ['dynamodb:Scan', 'dynamodb:DeleteItem'],
        resourceArns: [this.table.table.tableArn],
      });
    }

    this.api = new RealtimeApi(this, 'WebSocket', {
      authorizerHandler: functions.authorizer,
      connectHandler: functions.connect,
      disconnectHandler: functions.disconnect,
      defaultHandler: functions.default,
      actionHandlers: Object.fromEntries(ACTION_HANDLERS.map((name) => [name, functions[name]])),
      ...(reference === undefined ? {} : { oneWayHandlers: { refsend: reference } }),
      stageName: config.stageName,
      throttle: config.stageThrottle,
      accessLogRetention: stage.logRetention,
      accessLogRemovalPolicy: stage.removalPolicy,
    });

    for (const name of HANDLER_NAMES) {
      if (!HANDLER_NEEDS[name].posts) continue;
      functions[name].addEnvironment('CALLBACK_URL', this.api.callbackUrl);
      this.api.grantManageConnections(functions[name]);
    }
    for (const name of HANDLER_NAMES) {
      if (HANDLER_NEEDS[name].fansOut)
        allowFanOutWorkers(functions[name], functions.fanout, config);
      if (HANDLER_NEEDS[name].handsOffGone) allowPruning(functions[name], functions.prune);
    }
    functions.presence.addEventSource(new DynamoEventSource(this.table.table, PRESENCE_EVENTS));
    // On the role, where the policy is (the function's grant principal).
    Validations.of(functions.presence.role as iam.IRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams, which the event source mapping grants for reading the table’s ' +
        'stream, supports no resource-level permissions: IAM accepts it only on "*" ' +
        '(https://docs.aws.amazon.com/service-authorization/latest/reference/' +
        'list_amazondynamodb.html). It lists stream ARNs, no data; the stream itself is read ' +
        'through DescribeStream, GetShardIterator and GetRecords on this table’s stream only.',
    });
    // Lambda retries a failed asynchronous invocation twice; an hour-old
    // removal is the sweeper's (it runs every 10 minutes) rather than a retry's.
    functions.prune.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    if (reference !== undefined) {
      reference.addEnvironment('CALLBACK_URL', this.api.callbackUrl);
      this.api.grantManageConnections(reference);
    }

    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the sweeper that prunes connections whose $disconnect never arrived',
      schedule: events.Schedule.rate(SWEEP_INTERVAL),
      // A failed sweep is simply run again at the next interval.
      targets: [new targets.LambdaFunction(functions.sweep, { retryAttempts: 0 })],
    });

    const monitoring = new RealtimeMonitoring(this, 'Monitoring', {
      functions: [...Object.values(functions), ...(reference === undefined ? [] : [reference])],
      authorizer: functions.authorizer,
      streamConsumer: functions.presence,
      table: this.table,
      api: this.api,
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, 'WebSocketUrl', {
      value: this.api.url,
      description: 'URL clients connect to, with ?token=<JWT>',
    });
    new CfnOutput(this, 'CallbackUrl', {
      value: this.api.callbackUrl,
      description: 'Management API (@connections) of the stage',
    });
    new CfnOutput(this, 'PublishFunctionName', {
      value: this.publishFunction.functionName,
      description: 'Function other backends invoke (lambda:InvokeFunction) to publish',
    });
    new CfnOutput(this, 'PublishFunctionArn', {
      value: this.publishFunction.functionArn,
      description: 'ARN to grant lambda:InvokeFunction on, for backends that publish',
    });
    if (this.jwtSecret !== undefined) {
      new CfnOutput(this, 'JwtSecretArn', {
        value: this.jwtSecret.secretArn,
        description: 'Secrets Manager secret holding the HS256 secret token issuers sign with',
      });
    }
    new CfnOutput(this, 'DashboardUrl', {
      value: monitoring.dashboardUrl,
      description: 'CloudWatch dashboard of the stack',
    });
  }

  /**
   * Lets `grantee` (a role of another service in this app) invoke the publish
   * function, and nothing else of the stack.
   * @example stack.grantPublish(apiHandler);
   */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    return this.publishFunction.grantInvoke(grantee);
  }
}

/**
 * Lets `fn` split large fan-outs across the workers: their name, the share
 * size, and invoking them (the function's ARN only, not its versions).
 */
function allowFanOutWorkers(
  fn: RealtimeFunction,
  workers: RealtimeFunction,
  config: RealtimeConfig,
) {
  fn.addEnvironment('FANOUT_FUNCTION_NAME', workers.functionName);
  if (config.fanOutChunkSize !== undefined) {
    fn.addEnvironment('FAN_OUT_CHUNK_SIZE', String(config.fanOutChunkSize));
  }
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['lambda:InvokeFunction'],
    resourceArns: [workers.functionArn],
  });
}

/** Lets `fn` hand gone connections to the `prune` function: its name, and invoking it. */
function allowPruning(fn: RealtimeFunction, prune: RealtimeFunction) {
  fn.addEnvironment('PRUNE_FUNCTION_NAME', prune.functionName);
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['lambda:InvokeFunction'],
    resourceArns: [prune.functionArn],
  });
}

/** The secret that verifies HS256 tokens; none when a JWKS verifies them. */
function jwtSecret(scope: Construct, config: RealtimeConfig): secretsmanager.ISecret | undefined {
  switch (config.tokenKeys.kind) {
    case 'jwks':
      return undefined;
    case 'imported-secret':
      // A secret encrypted with a customer managed key also needs kms:Decrypt,
      // which the key policy has to allow.
      return secretsmanager.Secret.fromSecretCompleteArn(
        scope,
        'JwtSecret',
        config.tokenKeys.secretArn,
      );
    case 'generated-secret': {
      const secret = new secretsmanager.Secret(scope, 'JwtSecret', {
        description: 'HS256 secret that signs and verifies Realtime WebSocket tokens',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        // The token issuers hold this value: kept (prod), it can be given back to
        // a new stack as JWT_SECRET_ARN instead of re-keying every issuer.
        removalPolicy: STAGE_POLICIES[config.stage].removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The HS256 key is shared with token issuers outside this stack, and the verifiers ' +
          'read AWSCURRENT only, cached 15 minutes per instance: a Secrets Manager rotation ' +
          'would refuse every token already issued and, until the caches refresh, the ones ' +
          'signed with the new key, with no window in which both verify. Rotate by re-keying ' +
          'together with the issuers, or use JWT_JWKS_URL (asymmetric keys the issuer rotates ' +
          'by key id), which creates no secret.',
      });
      return secret;
    }
  }
}

function limitsEnvironment(limits: LimitSettings): Record<string, string> {
  const entries: [string, number | undefined][] = [
    ['MAX_CONNECTIONS_PER_USER', limits.maxConnectionsPerUser],
    ['MAX_ROOMS_PER_CONNECTION', limits.maxRoomsPerConnection],
    ['MAX_DATA_BYTES', limits.maxDataBytes],
    ['RATE_LIMIT_PER_SECOND', limits.rateLimitPerSecond],
    ['HISTORY_TTL_HOURS', limits.historyTtlHours],
  ];
  return Object.fromEntries(
    entries.flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])),
  );
}

/** The construct id of a handler's function, e.g. `JoinHandler`. */
export function handlerId(name: HandlerName): string {
  return `${pascal(name)}Handler`;
}

function handlerEntry(name: HandlerName | 'reference-send'): string {
  return fileURLToPath(new URL(`../lambdas/handlers/${name}.ts`, import.meta.url));
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
