import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';

/** Properties of a `RealtimeWebSocket`. */
export interface RealtimeWebSocketProps {
  /** REQUEST authorizer of `$connect`; it receives the token from the `token` query parameter. */
  readonly authorizerHandler: lambda.IFunction;
  /** Integration of `$connect`, reached only once the authorizer allowed the connection. */
  readonly connectHandler: lambda.IFunction;
  /** Integration of `$disconnect`. */
  readonly disconnectHandler: lambda.IFunction;
  /** Integration of `$default`: frames whose `action` names no route. */
  readonly defaultHandler: lambda.IFunction;
  /**
   * One two-way route per protocol action, keyed by the action: the
   * integration's response goes back to the sender as a frame.
   */
  readonly actionHandlers: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Routes that send no reply (one-way), by route key.
   * @default - none
   */
  readonly oneWayHandlers?: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Name of the stage, the last segment of the URLs.
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Steady-state and burst limits of every route of the stage.
   * @default - 500 requests a second, bursts of 1000
   */
  readonly throttle?: apigwv2.ThrottleSettings;
  /**
   * How long the stage's access logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * What happens to the access logs when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly accessLogRemovalPolicy?: RemovalPolicy;
  /**
   * Sets the account's API Gateway CloudWatch role, which access logging
   * needs, once per stack. Turn it off when the account has one already or
   * another stack sets it.
   * @default true
   */
  readonly manageAccountLogging?: boolean;
}

// Access log fields. Nothing here may expand to the query string: the JWT travels in it.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-logging.html
const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  connectionId: '$context.connectionId',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  integrationStatus: '$context.integration.status',
  integrationError: '$context.integration.error',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.message',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
} as const;

/**
 * The WebSocket API: routes on `$request.body.action`, authorizes `$connect`
 * only, answers message routes with their integration's response, and serves
 * one throttled, access-logged stage.
 */
export class RealtimeWebSocket extends Construct {
  /** The WebSocket API. */
  readonly api: apigwv2.WebSocketApi;
  /** The API's only stage. */
  readonly stage: apigwv2.WebSocketStage;
  /** The stage's access logs. */
  readonly accessLogs: logs.LogGroup;
  /** `wss://` URL clients connect to. */
  readonly url: string;
  /**
   * `https://` URL of the management API (`@connections`) of the stage. It is
   * built from the API id and the stage's name, not from the Stage resource,
   * so functions may use it without depending on the stage.
   */
  readonly callbackUrl: string;

  constructor(scope: Construct, id: string, props: RealtimeWebSocketProps) {
    super(scope, id);
    const stageName = props.stageName ?? 'prod';

    this.api = new apigwv2.WebSocketApi(this, 'Api', {
      routeSelectionExpression: '$request.body.action',
      description: 'Realtime WebSocket API',
    });

    this.api.addRoute('$connect', {
      integration: new WebSocketLambdaIntegration('ConnectIntegration', props.connectHandler),
      authorizer: new WebSocketLambdaAuthorizer('Authorizer', props.authorizerHandler, {
        identitySource: ['route.request.querystring.token'],
      }),
    });
    const connectionRoutes = [
      this.api.addRoute('$disconnect', {
        integration: new WebSocketLambdaIntegration(
          'DisconnectIntegration',
          props.disconnectHandler,
        ),
      }),
      this.api.addRoute('$default', {
        integration: new WebSocketLambdaIntegration('DefaultIntegration', props.defaultHandler),
        returnResponse: true,
      }),
      ...Object.entries(props.actionHandlers).map(([action, handler]) =>
        this.api.addRoute(action, {
          integration: new WebSocketLambdaIntegration(`${pascal(action)}Integration`, handler),
          returnResponse: true,
        }),
      ),
    ];
    for (const route of connectionRoutes) acknowledgeConnectionRoute(route);
    for (const [routeKey, handler] of Object.entries(props.oneWayHandlers ?? {})) {
      this.addOneWayRoute(routeKey, handler);
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.accessLogRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName,
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 500, burstLimit: 1000 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });

    if (props.manageAccountLogging ?? true) {
      this.stage.node.addDependency(accountLogging(this));
    }

    const stack = Stack.of(this);
    this.url = this.stage.url;
    this.callbackUrl = `https://${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${stageName}`;
  }

  /** Adds a route that sends no reply, for frames whose `action` is `routeKey`. */
  addOneWayRoute(routeKey: string, handler: lambda.IFunction): apigwv2.WebSocketRoute {
    const route = this.api.addRoute(routeKey, {
      integration: new WebSocketLambdaIntegration(`${pascal(routeKey)}Integration`, handler),
    });
    acknowledgeConnectionRoute(route);
    return route;
  }

  /** Allows posting to, reading and closing the stage's connections (`@connections`). */
  grantManageConnections(grantee: iam.IGrantable): iam.Grant {
    const grant = this.stage.grantManagementApiAccess(grantee);
    const principal: unknown = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) acknowledgeConnectionsWildcard(principal, this);
    return grant;
  }
}

/**
 * Acknowledges cdk-nag's finding that a route has no authorizer, route by
 * route and never on the API: $connect stays checked.
 */
function acknowledgeConnectionRoute(route: apigwv2.WebSocketRoute): void {
  Validations.of(route).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason:
      'WebSocket APIs take an authorizer on $connect only (https://docs.aws.amazon.com/' +
      'apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html). This ' +
      'route only receives frames of a connection the $connect authorizer admitted; API ' +
      'Gateway attaches that identity to each of its events, and the handlers act as it ' +
      'and refuse frames once its token has expired.',
  });
}

/** The account setting of each stack, created by its first API. */
const ACCOUNT_LOGGING = new WeakMap<Stack, apigateway.CfnAccount>();

/**
 * The account's API Gateway CloudWatch role, created by the first API of a
 * stack and shared by the others: API Gateway writes access logs with it, and
 * without one creating a stage with access logging fails with "CloudWatch
 * Logs role ARN must be set in account settings"
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).
 * The setting serves every API of the account and region, so the role and
 * setting are kept when the stack is deleted, as RestApi does.
 */
function accountLogging(api: RealtimeWebSocket): apigateway.CfnAccount {
  const stack = Stack.of(api);
  const existing = ACCOUNT_LOGGING.get(stack);
  if (existing !== undefined) return existing;
  const cloudWatchRole = new iam.Role(api, 'CloudWatchRole', {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    managedPolicies: [
      iam.ManagedPolicy.fromAwsManagedPolicyName(
        'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      ),
    ],
  });
  cloudWatchRole.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(cloudWatchRole).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      "The account's API Gateway CloudWatch role serves every REST and WebSocket API of the " +
      'account and region, and outlives this stack: scoped to this stack’s log group it would ' +
      'break the logging of the others. AmazonAPIGatewayPushToCloudWatchLogs is the policy ' +
      'AWS documents for it and maintains as API Gateway’s logging needs change.',
  });
  const account = new apigateway.CfnAccount(api, 'Account', {
    cloudWatchRoleArn: cloudWatchRole.roleArn,
  });
  account.applyRemovalPolicy(RemovalPolicy.RETAIN);
  ACCOUNT_LOGGING.set(stack, account);
  return account;
}

/** Acknowledges cdk-nag's IAM5 finding on the `@connections/*` grant, and no other wildcard. */
function acknowledgeConnectionsWildcard(principal: IConstruct, api: RealtimeWebSocket): void {
  const stack = Stack.of(api);
  const apiId = stack.getLogicalId(api.api.node.defaultChild as apigwv2.CfnApi);
  // cdk-nag's rendering of the resource: `<LogicalId>` for a Ref, `<AWS::Region>` for a pseudo parameter.
  const resource = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${api.stage.stageName}/*/@connections/*`;
  Validations.of(principal).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${resource}]`,
    reason:
      'Connection ids are assigned by API Gateway at $connect and only known at run time, so ' +
      'ManageConnections cannot name them. The grant is limited to the @connections of this ' +
      "API's one stage (any method: post, get and delete of a connection, as " +
      'WebSocketStage.grantManagementApiAccess grants it).',
  });
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
