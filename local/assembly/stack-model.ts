import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFunctionPermissions } from '../iam/function-permissions.js';
import {
  type FunctionRole,
  type PolicyDocument,
  readFunctionRoles,
} from '../iam/function-roles.js';
import { STREAM_VIEW_TYPES, type StreamViewType } from '../streams/stream-record.js';
import {
  type AsyncInvokeModel,
  DEFAULT_ASYNC_INVOKE,
  type EventSourceMappingModel,
  readAsyncInvokeConfigs,
  readEventSourceMappings,
} from './event-sources.js';
import { type Resolution, resolveString } from './intrinsics.js';
import { UnsupportedTemplateError } from './unsupported-template-error.js';

export type { AsyncInvokeModel, EventSourceMappingModel } from './event-sources.js';
export { UnsupportedTemplateError } from './unsupported-template-error.js';

/** A CloudFormation resource as synthesized. */
export interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A Lambda function of the template with its bundled code. */
export interface FunctionModel {
  readonly logicalId: string;
  /** The construct id (e.g. `SendHandler`), for logs. */
  readonly name: string;
  /** The function construct's path (`Shop/Chat/SendHandler`), as the manifest names it. */
  readonly constructPath: string;
  /** Absolute path of the bundle file. */
  readonly bundle: string;
  /** The exported handler's name. */
  readonly handler: string;
  /** Environment variables, intrinsics still unresolved. */
  readonly environment: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  /** Retries of its asynchronous invocations (its AWS::Lambda::EventInvokeConfig, or Lambda's defaults). */
  readonly asyncInvoke: AsyncInvokeModel;
}

/** One route of the WebSocket API. */
export interface RouteModel {
  readonly routeKey: string;
  /** The Lambda proxy integration's function. */
  readonly functionId: string;
  /** Present when the route has a route response: the integration's reply reaches the client. */
  readonly twoWay: boolean;
  readonly authorizer?: AuthorizerModel;
}

/** A REQUEST Lambda authorizer. */
export interface AuthorizerModel {
  /** The authorizer's id (locally, its logical id), as its execute-api ARN names it. */
  readonly authorizerId: string;
  readonly functionId: string;
  /** E.g. `route.request.querystring.token`. */
  readonly identitySource: readonly string[];
}

/** An EventBridge rule that invokes a function on a schedule. */
export interface ScheduleModel {
  readonly ruleId: string;
  /** `rate(10 minutes)` or `cron(...)`, as in the template. */
  readonly expression: string;
  readonly functionId: string;
}

/** A DynamoDB table as CloudFormation describes it. */
export interface TableModel {
  readonly logicalId: string;
  readonly keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly globalSecondaryIndexes?: unknown[];
  readonly localSecondaryIndexes?: unknown[];
  readonly ttlAttribute?: string;
  /** What its stream records carry; absent when the table has no stream. */
  readonly streamViewType?: StreamViewType;
}

/** What the local stack runs: read from the synthesized template, nothing written twice. */
export interface StackModel {
  readonly apiId: string;
  readonly routeSelectionExpression: string;
  readonly stageName: string;
  readonly routes: ReadonlyMap<string, RouteModel>;
  readonly functions: ReadonlyMap<string, FunctionModel>;
  readonly tables: readonly TableModel[];
  /** Scheduled rules whose target is one of the functions. */
  readonly schedules: readonly ScheduleModel[];
  /** Event source mappings from the tables' streams to functions. */
  readonly eventSourceMappings: readonly EventSourceMappingModel[];
  /** Logical ids of Secrets Manager secrets (the HS256 secret). */
  readonly secrets: readonly string[];
  /** Each function's execution role with its policies, by the function's logical id. */
  readonly roles: ReadonlyMap<string, FunctionRole>;
  /**
   * Each function's resource-based policy (its `AWS::Lambda::Permission`s),
   * by the function's logical id; absent for a function with none.
   */
  readonly permissions: ReadonlyMap<string, PolicyDocument>;
  /** Settings of the template the local stack ignores as harmless, one line each, for the log. */
  readonly notices: readonly string[];
  /** The local values of the template's references. */
  readonly resolution: Resolution;
}

/** Local values of the pseudo parameters. */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/**
 * The label of every local table's stream (in AWS, the time the stream was
 * created), fixed so that reading a template twice gives the same ARNs.
 */
export const LOCAL_STREAM_LABEL = '2000-01-01T00:00:00.000';

/**
 * Reads the stack `stackId` from the cloud assembly in `outdir`: the WebSocket
 * API with its routes, integrations, authorizer and route responses; the
 * functions with their bundles and asynchronous invocation settings; the
 * tables with their streams; the event source mappings from those streams.
 * @param scope the construct path of one API (a `RealtimeApi`) when the
 *   stack holds more than one: only the resources under it are read.
 */
export function readStackModel(outdir: string, stackId: string, scope?: string): StackModel {
  const template = JSON.parse(readFileSync(join(outdir, `${stackId}.template.json`), 'utf8')) as {
    Resources: Record<string, Resource>;
  };
  const resources = Object.entries(template.Resources).filter(
    ([, resource]) => scope === undefined || pathOf(resource).startsWith(`${scope}/`),
  );
  const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);

  const apis = ofType('AWS::ApiGatewayV2::Api').filter(
    ([, api]) => api.Properties?.ProtocolType === 'WEBSOCKET',
  );
  const [apiEntry, ...moreApis] = apis;
  if (apiEntry === undefined || moreApis.length > 0) {
    throw new UnsupportedTemplateError(`expected one WebSocket API, found ${apis.length}`);
  }
  const [apiLogicalId, api] = apiEntry;
  const resolution = localResolution(resources, apiLogicalId);
  const props = (resource: Resource) => resource.Properties ?? {};
  const refTo = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;

  const stages = ofType('AWS::ApiGatewayV2::Stage');
  const stageName = stages[0] ? String(props(stages[0][1]).StageName) : undefined;
  if (stageName === undefined || stages.length !== 1) {
    throw new UnsupportedTemplateError(`expected one stage, found ${stages.length}`);
  }

  const functionOf = (uri: unknown) => {
    // arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations
    const match = /functions\/arn:aws:lambda:[^:]+:\d+:function:([^/]+)\/invocations$/.exec(
      resolveString(uri, resolution),
    );
    if (!match?.[1]) throw new UnsupportedTemplateError(`not a Lambda integration: ${String(uri)}`);
    return match[1];
  };
  const integrations = new Map(
    ofType('AWS::ApiGatewayV2::Integration').map(([id, integration]) => {
      if (props(integration).IntegrationType !== 'AWS_PROXY') {
        throw new UnsupportedTemplateError(`${id}: only Lambda proxy integrations run locally`);
      }
      return [id, functionOf(props(integration).IntegrationUri)];
    }),
  );
  const authorizers = new Map(
    ofType('AWS::ApiGatewayV2::Authorizer').map(([id, authorizer]) => [
      id,
      {
        authorizerId: resolveString({ Ref: id }, resolution),
        functionId: functionOf(props(authorizer).AuthorizerUri),
        identitySource: (props(authorizer).IdentitySource as string[] | undefined) ?? [],
      },
    ]),
  );
  const twoWayRoutes = new Set(
    ofType('AWS::ApiGatewayV2::RouteResponse').map(([, response]) =>
      refTo(props(response).RouteId),
    ),
  );
  const routes = new Map<string, RouteModel>();
  for (const [id, route] of ofType('AWS::ApiGatewayV2::Route')) {
    const { RouteKey, Target, AuthorizerId, AuthorizationType } = props(route);
    const target = resolveString(Target, {
      ...resolution,
      refs: { ...resolution.refs, ...identity(integrations) },
    });
    const functionId = integrations.get(target.replace(/^integrations\//, ''));
    if (functionId === undefined) throw new UnsupportedTemplateError(`${id} has no integration`);
    const authorizer =
      AuthorizationType === 'CUSTOM' ? authorizers.get(refTo(AuthorizerId) ?? '') : undefined;
    routes.set(String(RouteKey), {
      routeKey: String(RouteKey),
      functionId,
      twoWay: twoWayRoutes.has(id),
      ...(authorizer === undefined ? {} : { authorizer }),
    });
  }

  const tables = ofType('AWS::DynamoDB::Table').map(([id, table]) => tableModel(id, props(table)));
  const notices: string[] = [];
  const eventSources = {
    resources,
    resolution,
    functionIds: new Set(ofType('AWS::Lambda::Function').map(([id]) => id)),
    tables,
    notice: (line: string) => notices.push(line),
  };
  const asyncInvokeConfigs = readAsyncInvokeConfigs(eventSources);
  const functions = new Map(
    ofType('AWS::Lambda::Function').map(([id, fn]) => [
      id,
      functionModel(outdir, id, fn, asyncInvokeConfigs.get(id) ?? DEFAULT_ASYNC_INVOKE),
    ]),
  );
  const eventSourceMappings = readEventSourceMappings(eventSources);
  const schedules = ofType('AWS::Events::Rule').flatMap(([ruleId, rule]) => {
    const { ScheduleExpression, Targets, State } = props(rule);
    if (typeof ScheduleExpression !== 'string' || State === 'DISABLED') return [];
    return ((Targets ?? []) as { Arn: unknown }[]).map((target) => {
      const arn = resolveString(target.Arn, resolution);
      const functionId = /^arn:aws:lambda:[^:]+:\d+:function:([^:/]+)$/.exec(arn)?.[1];
      if (functionId === undefined || !functions.has(functionId)) {
        throw new UnsupportedTemplateError(
          `${ruleId}: only Lambda targets run locally, got ${arn}`,
        );
      }
      return { ruleId, expression: ScheduleExpression, functionId };
    });
  });
  const iamSources = { resources, resolution, notice: (line: string) => notices.push(line) };

  return {
    apiId: resolveString({ Ref: apiLogicalId }, resolution),
    routeSelectionExpression: String(props(api).RouteSelectionExpression),
    stageName,
    routes,
    functions,
    tables,
    schedules,
    eventSourceMappings,
    secrets: ofType('AWS::SecretsManager::Secret').map(([id]) => id),
    roles: readFunctionRoles(iamSources),
    permissions: readFunctionPermissions(iamSources),
    notices,
    resolution,
  };
}

/**
 * The local values of references: tables are named by their logical id (with
 * a stream ARN when they have a stream), the API gets a fixed id and its
 * authorizers their logical id, functions and secrets local ARNs.
 */
export function localResolution(
  resources: ReadonlyArray<readonly [string, Resource]>,
  apiLogicalId: string,
): Resolution {
  const refs: Record<string, string> = {
    'AWS::Region': LOCAL_REGION,
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'local',
  };
  const attributes: Record<string, string> = {};
  for (const [id, resource] of resources) {
    switch (resource.Type) {
      case 'AWS::DynamoDB::Table':
        refs[id] = id;
        attributes[`${id}.Arn`] = `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${id}`;
        // CloudFormation has StreamArn only for a table with a stream.
        if (resource.Properties?.StreamSpecification !== undefined) {
          attributes[`${id}.StreamArn`] = `${attributes[`${id}.Arn`]}/stream/${LOCAL_STREAM_LABEL}`;
        }
        break;
      case 'AWS::Lambda::Function':
        refs[id] = id;
        attributes[`${id}.Arn`] = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${id}`;
        break;
      case 'AWS::SecretsManager::Secret':
        refs[id] = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${id}`;
        break;
      case 'AWS::ApiGatewayV2::Api':
        refs[id] = id === apiLogicalId ? 'local' : id;
        break;
      case 'AWS::ApiGatewayV2::Authorizer':
        refs[id] = id;
        break;
      case 'AWS::IAM::Role':
        refs[id] = id;
        attributes[`${id}.Arn`] = `arn:aws:iam::${LOCAL_ACCOUNT}:role/${id}`;
        break;
      case 'AWS::Logs::LogGroup': {
        // Only policies refer to log groups here (the functions' logging grants).
        const given = resource.Properties?.LogGroupName;
        const name = typeof given === 'string' ? given : id;
        refs[id] = name;
        attributes[`${id}.Arn`] =
          `arn:aws:logs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:log-group:${name}:*`;
        break;
      }
    }
  }
  return { refs, attributes };
}

/** Environment values resolved to local ones. */
export function resolveEnvironment(
  environment: Readonly<Record<string, unknown>>,
  resolution: Resolution,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, resolveString(value, resolution)]),
  );
}

function functionModel(
  outdir: string,
  logicalId: string,
  fn: Resource,
  asyncInvoke: AsyncInvokeModel,
): FunctionModel {
  const props = fn.Properties ?? {};
  const asset = fn.Metadata?.['aws:asset:path'];
  if (typeof asset !== 'string') {
    throw new UnsupportedTemplateError(
      `${logicalId} has no bundled asset (synthesize with bundling)`,
    );
  }
  const [file, handler] = String(props.Handler ?? 'index.handler').split('.');
  const bundle = ['mjs', 'js', 'cjs']
    .map((extension) => join(outdir, asset, `${file}.${extension}`))
    .find((candidate) => existsSync(candidate));
  if (bundle === undefined || handler === undefined) {
    throw new UnsupportedTemplateError(`${logicalId}: no bundle ${file}.* in ${asset}`);
  }
  const path = pathOf(fn) || logicalId;
  return {
    logicalId,
    // `<stack>/.../<function>/Resource`
    name: path.split('/').at(-2) ?? logicalId,
    constructPath: path.replace(/\/Resource$/, ''),
    bundle,
    handler,
    environment:
      (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
    timeoutMs: Number(props.Timeout ?? 3) * 1000,
    memoryMb: Number(props.MemorySize ?? 128),
    asyncInvoke,
  };
}

function tableModel(logicalId: string, props: Record<string, unknown>): TableModel {
  const ttl = props.TimeToLiveSpecification as
    | { AttributeName?: string; Enabled?: boolean }
    | undefined;
  const stream = props.StreamSpecification as { StreamViewType?: unknown } | undefined;
  const streamViewType = STREAM_VIEW_TYPES.find((type) => type === stream?.StreamViewType);
  if (stream !== undefined && streamViewType === undefined) {
    throw new UnsupportedTemplateError(
      `${logicalId}: StreamViewType must be one of ${STREAM_VIEW_TYPES.join(', ')}, got ${JSON.stringify(stream.StreamViewType)}`,
    );
  }
  return {
    logicalId,
    keySchema: props.KeySchema as TableModel['keySchema'],
    attributeDefinitions: props.AttributeDefinitions as TableModel['attributeDefinitions'],
    ...(props.GlobalSecondaryIndexes
      ? { globalSecondaryIndexes: props.GlobalSecondaryIndexes as unknown[] }
      : {}),
    ...(props.LocalSecondaryIndexes
      ? { localSecondaryIndexes: props.LocalSecondaryIndexes as unknown[] }
      : {}),
    ...(ttl?.Enabled && ttl.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
    ...(streamViewType === undefined ? {} : { streamViewType }),
  };
}

/** The construct path CDK records on a resource (`aws:cdk:path`), or ''. */
export function pathOf(resource: Resource): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path : '';
}

function identity(map: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...map.keys()].map((key) => [key, key]));
}
