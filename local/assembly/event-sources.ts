import {
  type FilterPattern,
  FilterPatternError,
  parseFilterPattern,
} from '../lambda/event-filter.js';
import { type Resolution, resolveString } from './intrinsics.js';
import type { Resource, TableModel } from './stack-model.js';
import { UnsupportedTemplateError } from './unsupported-template-error.js';

/**
 * The template's asynchronous machinery of Lambda: event source mappings from
 * DynamoDB streams (AWS::Lambda::EventSourceMapping) and the retry settings of
 * asynchronous invocations (AWS::Lambda::EventInvokeConfig), with AWS's
 * documented defaults. What the local stack cannot run is refused, naming it;
 * what it can safely ignore is reported through `notice`.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */

/** An event source mapping from a table's stream to a function. */
export interface EventSourceMappingModel {
  readonly logicalId: string;
  readonly functionId: string;
  /** The logical id of the table whose stream it reads. */
  readonly tableId: string;
  /** The stream's ARN. */
  readonly eventSourceArn: string;
  /** @default true */
  readonly enabled: boolean;
  /** Most records per invocation. @default 100 */
  readonly batchSize: number;
  /** Longest wait for a fuller batch. @default 0 */
  readonly maximumBatchingWindowInSeconds: number;
  /** Locally both start with the first write after the stack started. */
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  /** `FilterCriteria` patterns; none lets every record through. */
  readonly filters: readonly FilterPattern[];
  /** `FunctionResponseTypes` holds `ReportBatchItemFailures`. */
  readonly reportBatchItemFailures: boolean;
  /** @default false */
  readonly bisectBatchOnFunctionError: boolean;
  /** Retries of a failed batch; -1 retries until the records expire. @default -1 */
  readonly maximumRetryAttempts: number;
  /** Age past which records are skipped; -1 keeps them until they expire (24 hours). @default -1 */
  readonly maximumRecordAgeInSeconds: number;
  /** Batches in flight at once, each partition key always in the same one. @default 1 */
  readonly parallelizationFactor: number;
  /** `DestinationConfig.OnFailure`, described for logs: locally the record goes to the log. */
  readonly onFailure?: string;
}

/** How Lambda retries a function's asynchronous invocations. */
export interface AsyncInvokeModel {
  /** Retries after a function error, 0 to 2. @default 2 */
  readonly maximumRetryAttempts: number;
  /** Seconds an event may wait for an attempt, 60 to 21600. @default 21600 */
  readonly maximumEventAgeInSeconds: number;
  /** `DestinationConfig.OnFailure`, described for logs: locally the record goes to the log. */
  readonly onFailure?: string;
}

/** Lambda's defaults for asynchronous invocation: two retries, events kept six hours. */
export const DEFAULT_ASYNC_INVOKE: AsyncInvokeModel = {
  maximumRetryAttempts: 2,
  maximumEventAgeInSeconds: 21_600,
};

/** What the readers need of the rest of the template. */
export interface EventSourceContext {
  readonly resources: ReadonlyArray<readonly [string, Resource]>;
  readonly resolution: Resolution;
  /** Logical ids of the template's functions. */
  readonly functionIds: ReadonlySet<string>;
  readonly tables: readonly TableModel[];
  /** Receives a line for each setting the local stack ignores as harmless. */
  readonly notice: (line: string) => void;
}

const MAPPING_PROPERTIES = new Set([
  'EventSourceArn',
  'FunctionName',
  'Enabled',
  'BatchSize',
  'MaximumBatchingWindowInSeconds',
  'StartingPosition',
  'FilterCriteria',
  'FunctionResponseTypes',
  'BisectBatchOnFunctionError',
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'ParallelizationFactor',
  'DestinationConfig',
]);
/** Settings that change nothing a function or a test can observe locally. */
const HARMLESS_MAPPING_PROPERTIES = new Set([
  'MetricsConfig',
  'Tags',
  'KmsKeyArn',
  'ProvisionedPollerConfig',
]);
const INVOKE_CONFIG_PROPERTIES = new Set([
  'FunctionName',
  'Qualifier',
  'MaximumRetryAttempts',
  'MaximumEventAgeInSeconds',
  'DestinationConfig',
]);

/**
 * Reads every AWS::Lambda::EventSourceMapping; each must read a stream of the
 * template's tables, unless it is disabled, which makes it harmless.
 */
export function readEventSourceMappings(context: EventSourceContext): EventSourceMappingModel[] {
  return context.resources
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::EventSourceMapping')
    .flatMap(([id, resource]) => {
      const props = resource.Properties ?? {};
      try {
        return [mappingModel(id, props, context)];
      } catch (error) {
        if (!(error instanceof UnsupportedTemplateError) || !isFalse(props.Enabled)) throw error;
        context.notice(`${error.message}; ignored, as it is disabled`);
        return [];
      }
    });
}

/** Reads every AWS::Lambda::EventInvokeConfig, by the logical id of its function. */
export function readAsyncInvokeConfigs(context: EventSourceContext): Map<string, AsyncInvokeModel> {
  const configs = new Map<string, AsyncInvokeModel>();
  for (const [id, resource] of context.resources) {
    if (resource.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const props = resource.Properties ?? {};
    refuseUnknown(id, props, INVOKE_CONFIG_PROPERTIES, new Set(), context);
    const { functionId, qualifier } = functionOf(id, props.FunctionName, context);
    const target = String(props.Qualifier ?? qualifier ?? '$LATEST');
    if (target !== '$LATEST') {
      context.notice(
        `${id}: applies to ${functionId}:${target}, a version or alias the local stack does not run; ignored`,
      );
      continue;
    }
    const destinations = (props.DestinationConfig ?? {}) as Record<string, unknown>;
    if (destinations.OnSuccess !== undefined) {
      throw new UnsupportedTemplateError(
        `${id}: DestinationConfig.OnSuccess is not emulated by the local stack`,
      );
    }
    const onFailure = destinationOf(destinations.OnFailure, context);
    configs.set(functionId, {
      maximumRetryAttempts: integer(id, props, 'MaximumRetryAttempts', 2, 0, 2),
      maximumEventAgeInSeconds: integer(id, props, 'MaximumEventAgeInSeconds', 21_600, 60, 21_600),
      ...(onFailure === undefined ? {} : { onFailure }),
    });
  }
  return configs;
}

function mappingModel(
  id: string,
  props: Record<string, unknown>,
  context: EventSourceContext,
): EventSourceMappingModel {
  if (props.TumblingWindowInSeconds !== undefined) {
    throw new UnsupportedTemplateError(
      `${id}: tumbling windows are not emulated by the local stack`,
    );
  }
  const table = streamTableOf(id, props.EventSourceArn, context);
  refuseUnknown(id, props, MAPPING_PROPERTIES, HARMLESS_MAPPING_PROPERTIES, context);
  const { functionId, qualifier } = functionOf(id, props.FunctionName, context);
  if (qualifier !== undefined && qualifier !== '$LATEST') {
    throw new UnsupportedTemplateError(
      `${id}: invokes ${functionId}:${qualifier}; the local stack runs $LATEST only`,
    );
  }
  const startingPosition = props.StartingPosition;
  if (startingPosition !== 'LATEST' && startingPosition !== 'TRIM_HORIZON') {
    throw new UnsupportedTemplateError(
      `${id}: StartingPosition must be LATEST or TRIM_HORIZON for a DynamoDB stream, got ${JSON.stringify(startingPosition)}`,
    );
  }
  const responseTypes: unknown = props.FunctionResponseTypes ?? [];
  if (
    !Array.isArray(responseTypes) ||
    responseTypes.some((type) => type !== 'ReportBatchItemFailures')
  ) {
    throw new UnsupportedTemplateError(
      `${id}: FunctionResponseTypes may only hold ReportBatchItemFailures, got ${JSON.stringify(props.FunctionResponseTypes)}`,
    );
  }
  const destinations = (props.DestinationConfig ?? {}) as Record<string, unknown>;
  if (destinations.OnSuccess !== undefined) {
    throw new UnsupportedTemplateError(
      `${id}: DestinationConfig.OnSuccess does not apply to a DynamoDB stream`,
    );
  }
  const onFailure = destinationOf(destinations.OnFailure, context);
  const maximumRecordAgeInSeconds = integer(
    id,
    props,
    'MaximumRecordAgeInSeconds',
    -1,
    -1,
    604_800,
  );
  if (maximumRecordAgeInSeconds !== -1 && maximumRecordAgeInSeconds < 60) {
    throw new UnsupportedTemplateError(
      `${id}: MaximumRecordAgeInSeconds must be -1 or 60 to 604800, got ${maximumRecordAgeInSeconds}`,
    );
  }
  return {
    logicalId: id,
    functionId,
    tableId: table.logicalId,
    eventSourceArn: resolveString(props.EventSourceArn, context.resolution),
    enabled: boolean(id, props, 'Enabled', true),
    batchSize: integer(id, props, 'BatchSize', 100, 1, 10_000),
    maximumBatchingWindowInSeconds: integer(id, props, 'MaximumBatchingWindowInSeconds', 0, 0, 300),
    startingPosition,
    filters: filtersOf(id, props.FilterCriteria),
    reportBatchItemFailures: responseTypes.length > 0,
    bisectBatchOnFunctionError: boolean(id, props, 'BisectBatchOnFunctionError', false),
    maximumRetryAttempts: integer(id, props, 'MaximumRetryAttempts', -1, -1, 10_000),
    maximumRecordAgeInSeconds,
    parallelizationFactor: integer(id, props, 'ParallelizationFactor', 1, 1, 10),
    ...(onFailure === undefined ? {} : { onFailure }),
  };
}

/** The table whose stream `arn` designates, or an error naming what it designates instead. */
function streamTableOf(id: string, arn: unknown, context: EventSourceContext): TableModel {
  const getAtt = (arn as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  let tableId: string | undefined;
  if (getAtt !== undefined) {
    const [target, attribute] = Array.isArray(getAtt) ? getAtt : String(getAtt).split('.');
    const type = context.resources.find(([resourceId]) => resourceId === target)?.[1].Type;
    if (type !== 'AWS::DynamoDB::Table' || attribute !== 'StreamArn') {
      throw new UnsupportedTemplateError(
        `${id}: the local stack runs event source mappings from DynamoDB streams of the template's tables only, not from ${type ?? 'unknown resource'} ${target}.${attribute}`,
      );
    }
    tableId = String(target);
  } else if (typeof arn === 'string') {
    tableId = /^arn:aws[a-z-]*:dynamodb:[^:]*:\d*:table\/([^/]+)\/stream\//.exec(arn)?.[1];
    if (tableId === undefined) {
      const service = /^arn:aws[a-z-]*:([^:]+):/.exec(arn)?.[1] ?? 'unknown';
      throw new UnsupportedTemplateError(
        `${id}: the local stack runs event source mappings from DynamoDB streams only, not from ${service} (${arn})`,
      );
    }
  } else {
    throw new UnsupportedTemplateError(
      `${id}: EventSourceArn ${JSON.stringify(arn)} is no stream of the template's tables`,
    );
  }
  const table = context.tables.find((candidate) => candidate.logicalId === tableId);
  if (table === undefined) {
    throw new UnsupportedTemplateError(`${id}: ${tableId} is no table of the template`);
  }
  if (table.streamViewType === undefined) {
    throw new UnsupportedTemplateError(`${id}: ${tableId} has no StreamSpecification`);
  }
  return table;
}

/** The function a `FunctionName` designates: a name, a full or partial ARN, maybe qualified. */
function functionOf(
  id: string,
  value: unknown,
  context: EventSourceContext,
): { functionId: string; qualifier?: string } {
  const name = resolveString(value, context.resolution);
  const match = /^(?:(?:arn:aws[a-z-]*:lambda:[^:]+:)?\d{12}:function:)?([^:]+)(?::(.+))?$/.exec(
    name,
  );
  const functionId = match?.[1];
  if (functionId === undefined || !context.functionIds.has(functionId)) {
    throw new UnsupportedTemplateError(
      `${id}: FunctionName ${name} is no function of the template`,
    );
  }
  return match?.[2] === undefined ? { functionId } : { functionId, qualifier: match[2] };
}

function filtersOf(id: string, criteria: unknown): FilterPattern[] {
  if (criteria === undefined) return [];
  const filters = (criteria as { Filters?: unknown }).Filters;
  if (!Array.isArray(filters)) {
    throw new UnsupportedTemplateError(`${id}: FilterCriteria has no list of Filters`);
  }
  return filters.map((filter) => {
    try {
      return parseFilterPattern(String((filter as { Pattern?: unknown }).Pattern));
    } catch (error) {
      if (!(error instanceof FilterPatternError)) throw error;
      throw new UnsupportedTemplateError(`${id}: FilterCriteria: ${error.message}`, {
        cause: error,
      });
    }
  });
}

/** A destination described for logs: `QueueLogicalId (AWS::SQS::Queue)` or the ARN given. */
function destinationOf(value: unknown, context: EventSourceContext): string | undefined {
  const destination = (value as { Destination?: unknown } | undefined)?.Destination;
  if (destination === undefined) return undefined;
  const reference = destination as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  const getAtt = reference['Fn::GetAtt'];
  const target =
    reference.Ref ??
    (Array.isArray(getAtt)
      ? getAtt[0]
      : getAtt === undefined
        ? undefined
        : String(getAtt).split('.')[0]);
  if (target === undefined) return String(destination);
  const type = context.resources.find(([resourceId]) => resourceId === target)?.[1].Type;
  return `${String(target)} (${type ?? 'unknown type'})`;
}

function refuseUnknown(
  id: string,
  props: Record<string, unknown>,
  known: ReadonlySet<string>,
  harmless: ReadonlySet<string>,
  context: EventSourceContext,
): void {
  for (const name of Object.keys(props)) {
    if (known.has(name)) continue;
    if (!harmless.has(name)) {
      throw new UnsupportedTemplateError(`${id}: ${name} is not emulated by the local stack`);
    }
    context.notice(`${id}: ${name} has no local effect; ignored`);
  }
}

function integer(
  id: string,
  props: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = props[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UnsupportedTemplateError(
      `${id}: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function isFalse(value: unknown): boolean {
  return value === false || value === 'false';
}

function boolean(id: string, props: Record<string, unknown>, name: string, fallback: boolean) {
  const raw = props[name];
  if (raw === undefined) return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new UnsupportedTemplateError(
    `${id}: ${name} must be true or false, got ${JSON.stringify(raw)}`,
  );
}
