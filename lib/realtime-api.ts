import { resolve } from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SWEEP_INDEX } from '../lambdas/adapters/table-keys.js';
import { bundlingRoot } from './constructs/bundling-root.js';
import { EsbuildBatch } from './constructs/esbuild-code.js';
import { writeHookedEntry } from './constructs/hooked-entry.js';
import { pathInStack } from './constructs/path-in-stack.js';
import { functionBundling, RealtimeFunction } from './constructs/realtime-function.js';
import { RealtimeMonitoring } from './constructs/realtime-monitoring.js';
import { RealtimeTable } from './constructs/realtime-table.js';
import { RealtimeWebSocket } from './constructs/realtime-websocket.js';
import {
  ACTION_HANDLERS,
  HANDLER_NAMES,
  HANDLER_NEEDS,
  type HandlerName,
  HOOKED_HANDLERS,
  handlerEntry,
  handlerId,
  PRESENCE_EVENTS,
  SWEEP_INTERVAL,
  sourceOrCompiled,
} from './handler-needs.js';
import type { RealtimeApiProps, RealtimeLimits, TokenVerification } from './realtime-api-props.js';
import { validateProps } from './realtime-api-validation.js';

/** The default budget of one hook call. */
const DEFAULT_HOOK_TIMEOUT = Duration.seconds(3);

/**
 * A serverless WebSocket backend in your stack: an API Gateway WebSocket API
 * speaking the wire protocol (docs/PROTOCOL.md), whose `$connect` verifies a
 * JWT; one Lambda function per route and background job, each allowed only
 * the table actions it uses; one DynamoDB table of connections, memberships
 * and history, whose stream announces presence; a sweeper for connections
 * that vanished; and alarms with a dashboard.
 *
 * @example
 * const chat = new RealtimeApi(this, 'Chat', {
 *   tokens: TokenVerification.jwks('https://issuer.example/.well-known/jwks.json'),
 *   hooks: { entry: 'src/realtime-hooks.ts' },
 * });
 * chat.grantPublish(ordersHandler);
 */
export class RealtimeApi extends Construct {
  /** `wss://` URL clients connect to, with `?token=<JWT>`. */
  readonly url: string;
  /** `https://` URL of the stage's management API (`@connections`). */
  readonly callbackUrl: string;
  /** The table of connections, memberships, sequence counters and history. */
  readonly table: dynamodb.Table;
  /** The WebSocket API, its stage and access logs. */
  readonly webSocket: RealtimeWebSocket;
  /** One function per handler, by handler name. */
  readonly functions: Readonly<Record<HandlerName, lambda.Function>>;
  /**
   * The function your backends invoke to send to a room or a user
   * (`lambda:InvokeFunction`, see {@link RealtimeApi.grantPublish}).
   */
  readonly publishFunction: lambda.Function;
  /** The HS256 secret, unless tokens are verified against a JWKS. */
  readonly jwtSecret?: secretsmanager.ISecret;
  /** Every alarm, when monitoring is on. */
  readonly alarms?: readonly cloudwatch.Alarm[];
  /** The CloudWatch dashboard, when monitoring is on. */
  readonly dashboard?: cloudwatch.Dashboard;
  /**
   * The alarms and dashboard, when monitoring is on: `watchFunction` adds a
   * function of yours to the alarms.
   */
  readonly monitoring?: RealtimeMonitoring;
  /** The `service` of the functions' logs and metrics. */
  readonly serviceName: string;

  private readonly realtimeTable: RealtimeTable;

  constructor(scope: Construct, id: string, props: RealtimeApiProps = {}) {
    super(scope, id);
    validateProps(this.node.path, props);
    this.serviceName = props.serviceName ?? serviceNameOf(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // Construct ids of stateful resources must never change: 'Data' (the table),
    // 'JwtSecret', and 'WebSocket' (the API id is part of every client's URL).
    this.realtimeTable = new RealtimeTable(this, 'Data', {
      removalPolicy,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      pointInTimeRecovery: props.pointInTimeRecovery ?? true,
    });
    this.table = this.realtimeTable.table;
    this.jwtSecret = jwtSecret(this, props.tokens, removalPolicy);

    const tokenEnv = tokenEnvironment(props.tokens, this.jwtSecret);
    const originEnv: Record<string, string> =
      props.allowedOrigins === undefined ? {} : { ALLOWED_ORIGINS: props.allowedOrigins.join(',') };
    const limitsEnv = limitsEnvironment(props.limits ?? {}, props.historyRetention);
    const hooks = props.hooks === undefined ? undefined : resolve(props.hooks.entry);
    const hookEnv: Record<string, string> =
      props.hooks === undefined
        ? {}
        : {
            HOOK_TIMEOUT_MS: String((props.hooks.timeout ?? DEFAULT_HOOK_TIMEOUT).toMilliseconds()),
          };

    const entries = {} as Record<HandlerName, string>;
    // Every function's bundle in one esbuild build: added before CDK bundles the first.
    const bundles = new EsbuildBatch();
    for (const name of HANDLER_NAMES) {
      entries[name] =
        hooks !== undefined && HOOKED_HANDLERS.includes(name)
          ? hookedEntry(this, name, hooks)
          : handlerEntry(name);
      bundles.add(functionBundling(entries[name], HANDLER_NEEDS[name].runtimeModules));
    }

    const functions = {} as Record<HandlerName, RealtimeFunction>;
    for (const name of HANDLER_NAMES) {
      const needs = HANDLER_NEEDS[name];
      const usesTable = needs.tableActions.length > 0;
      const fn = new RealtimeFunction(this, handlerId(name), {
        entry: entries[name],
        bundles,
        description: `Realtime WebSocket ${name} handler`,
        serviceName: this.serviceName,
        logRetention,
        logRemovalPolicy: removalPolicy,
        ...(needs.timeout === undefined ? {} : { timeout: needs.timeout }),
        ...(needs.memorySize === undefined ? {} : { memorySize: needs.memorySize }),
        ...(needs.runtimeModules === undefined ? {} : { runtimeModules: needs.runtimeModules }),
        environment: {
          ...(usesTable ? { TABLE_NAME: this.table.tableName, ...limitsEnv } : {}),
          ...(needs.verifiesTokens ? tokenEnv : {}),
          ...(needs.checksOrigin ? originEnv : {}),
          // Empty without hooks.
          ...(HOOKED_HANDLERS.includes(name) ? hookEnv : {}),
        },
      });
      if (usesTable) {
        // Not Table.grant: with an index on the table it would add `<table>/index/*`
        // to every function's policy, and only the sweeper reads an index.
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: needs.tableActions.map((action) => `dynamodb:${action}`),
          resourceArns: [this.table.tableArn],
        });
      }
      if (needs.queriesSweepIndex) {
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: ['dynamodb:Query'],
          resourceArns: [`${this.table.tableArn}/index/${SWEEP_INDEX}`],
        });
      }
      if (needs.verifiesTokens) this.jwtSecret?.grantRead(fn);
      functions[name] = fn;
    }
    this.functions = functions;
    this.publishFunction = functions.publish;

    this.webSocket = new RealtimeWebSocket(this, 'WebSocket', {
      authorizerHandler: functions.authorizer,
      connectHandler: functions.connect,
      disconnectHandler: functions.disconnect,
      defaultHandler: functions.default,
      actionHandlers: Object.fromEntries(ACTION_HANDLERS.map((name) => [name, functions[name]])),
      stageName: props.stageName ?? 'prod',
      ...(props.throttle === undefined ? {} : { throttle: props.throttle }),
      accessLogRetention: logRetention,
      accessLogRemovalPolicy: removalPolicy,
      manageAccountLogging: props.manageAccountLogging ?? true,
    });
    this.url = this.webSocket.url;
    this.callbackUrl = this.webSocket.callbackUrl;

    for (const name of HANDLER_NAMES) {
      if (!HANDLER_NEEDS[name].posts) continue;
      functions[name].addEnvironment('CALLBACK_URL', this.callbackUrl);
      this.webSocket.grantManageConnections(functions[name]);
    }
    for (const name of HANDLER_NAMES) {
      if (HANDLER_NEEDS[name].fansOut) {
        allowFanOutWorkers(functions[name], functions.fanout, props.fanOutShareSize);
      }
      if (HANDLER_NEEDS[name].handsOffGone) allowPruning(functions[name], functions.prune);
    }
    functions.presence.addEventSource(new DynamoEventSource(this.table, PRESENCE_EVENTS));
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

    new events.Rule(this, 'SweepSchedule', {
      description: 'Runs the sweeper that prunes connections whose $disconnect never arrived',
      schedule: events.Schedule.rate(SWEEP_INTERVAL),
      // A failed sweep is simply run again at the next interval.
      targets: [new targets.LambdaFunction(functions.sweep, { retryAttempts: 0 })],
    });

    if (props.monitoring?.enabled ?? true) {
      const monitoring = new RealtimeMonitoring(this, 'Monitoring', {
        functions: Object.values(functions),
        authorizer: functions.authorizer,
        streamConsumer: functions.presence,
        table: this.realtimeTable,
        api: this.webSocket,
        serviceName: this.serviceName,
        ...(props.monitoring?.alarmEmail === undefined
          ? {}
          : { alarmEmail: props.monitoring.alarmEmail }),
        ...(props.monitoring?.alarmTopic === undefined
          ? {}
          : { alarmTopic: props.monitoring.alarmTopic }),
      });
      this.monitoring = monitoring;
      this.alarms = monitoring.alarms;
      this.dashboard = monitoring.dashboard;
    }
  }

  /**
   * Lets `grantee` (a role of another service of yours) invoke the publish
   * function, and nothing else of the API.
   * @example chat.grantPublish(ordersHandler);
   */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    // The function's ARN only: Function.grantInvoke would add `<arn>:*` (every
    // version and alias), a wildcard cdk-nag flags on the grantee's policy.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.publishFunction.functionArn],
    });
  }

  /** Lets `grantee` post to, read and close the stage's connections (`@connections`). */
  grantManageConnections(grantee: iam.IGrantable): iam.Grant {
    return this.webSocket.grantManageConnections(grantee);
  }
}

/** `<stack name>/<path of the construct in its stack>`: unique per API of an account. */
function serviceNameOf(api: RealtimeApi): string {
  return [Stack.of(api).stackName, ...pathInStack(api)].join('/');
}

/** The entry that bundles `name` with the consumer's hooks. */
function hookedEntry(api: RealtimeApi, name: HandlerName, hooks: string): string {
  return writeHookedEntry({
    projectRoot: bundlingRoot().projectRoot,
    apiKey: `${api.node.addr}:${hooks}`,
    name,
    handler: handlerEntry(name),
    hooks,
    registry: sourceOrCompiled('../lambdas/hooks/registry.ts'),
  });
}

/**
 * Lets `fn` split large fan-outs across the workers: their name, the share
 * size, and invoking them (the function's ARN only, not its versions).
 */
function allowFanOutWorkers(fn: RealtimeFunction, workers: RealtimeFunction, shareSize?: number) {
  fn.addEnvironment('FANOUT_FUNCTION_NAME', workers.functionName);
  if (shareSize !== undefined) fn.addEnvironment('FAN_OUT_CHUNK_SIZE', String(shareSize));
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

/** What the verifying functions are told about the keys and claims. */
function tokenEnvironment(
  tokens: TokenVerification | undefined,
  secret: secretsmanager.ISecret | undefined,
): Record<string, string> {
  const claims = tokens?.claims ?? {};
  return {
    ...(tokens?.keys.kind === 'jwks'
      ? { JWT_JWKS_URL: tokens.keys.url }
      : secret === undefined
        ? {}
        : { JWT_SECRET_ARN: secret.secretArn }),
    ...(claims.issuer === undefined ? {} : { JWT_ISSUER: claims.issuer }),
    ...(claims.audience === undefined ? {} : { JWT_AUDIENCE: claims.audience }),
  };
}

/** The secret that verifies HS256 tokens; none when a JWKS verifies them. */
function jwtSecret(
  scope: Construct,
  tokens: TokenVerification | undefined,
  removalPolicy: RemovalPolicy,
): secretsmanager.ISecret | undefined {
  const keys = tokens?.keys ?? { kind: 'generated-secret' };
  switch (keys.kind) {
    case 'jwks':
      return undefined;
    case 'secret':
      // A secret encrypted with a customer managed key also needs kms:Decrypt,
      // which the key policy has to allow.
      return keys.secret;
    case 'generated-secret': {
      const secret = new secretsmanager.Secret(scope, 'JwtSecret', {
        description: 'HS256 secret that signs and verifies Realtime WebSocket tokens',
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        // The token issuers hold this value: kept, it can be given back to a
        // new API (TokenVerification.fromSecret) instead of re-keying every issuer.
        removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The HS256 key is shared with token issuers outside this stack, and the verifiers ' +
          'read AWSCURRENT only, cached 15 minutes per instance: a Secrets Manager rotation ' +
          'would refuse every token already issued and, until the caches refresh, the ones ' +
          'signed with the new key, with no window in which both verify. Rotate by re-keying ' +
          'together with the issuers, or use TokenVerification.jwks (asymmetric keys the ' +
          'issuer rotates by key id), which creates no secret.',
      });
      return secret;
    }
  }
}

/** The functions' settings of PROTOCOL.md section 7; unset ones keep the functions' defaults. */
function limitsEnvironment(limits: RealtimeLimits, history?: Duration): Record<string, string> {
  const entries: [string, number | undefined][] = [
    ['MAX_CONNECTIONS_PER_USER', limits.maxConnectionsPerUser],
    ['MAX_ROOMS_PER_CONNECTION', limits.maxRoomsPerConnection],
    ['MAX_DATA_BYTES', limits.maxDataBytes],
    ['RATE_LIMIT_PER_SECOND', limits.rateLimitPerSecond],
    ['HISTORY_TTL_HOURS', history?.toHours()],
  ];
  return Object.fromEntries(
    entries.flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])),
  );
}
