import { describe, expect, it } from 'vitest';
import { STACK_ID } from '../../../lib/realtime-app.js';
import {
  readStackModel,
  type StackModel,
  UnsupportedTemplateError,
} from '../../../local/assembly/stack-model.js';
import { type MiniResource, tableResource, writeMiniAssembly } from '../support/mini-assembly.js';

const STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:000000000000:table/Rooms/stream/2000-01-01T00:00:00.000';
const PRESENCE = { Ref: 'PresenceFn' };
const ROOMS_STREAM = { 'Fn::GetAtt': ['Rooms', 'StreamArn'] };

/** The model of a template with a `PresenceFn` function, a `Rooms` table with a stream, and `resources`. */
function modelWith(
  resources: Readonly<Record<string, MiniResource>>,
  rooms: MiniResource = tableResource('NEW_AND_OLD_IMAGES'),
): StackModel {
  const assembly = writeMiniAssembly({
    functions: [
      {
        logicalId: 'PresenceFn',
        name: 'PresenceHandler',
        code: 'export const handler = () => null;',
      },
    ],
    resources: { Rooms: rooms, ...resources },
  });
  try {
    return readStackModel(assembly.outdir, STACK_ID);
  } finally {
    assembly.remove();
  }
}

/** A mapping from the Rooms stream to PresenceFn with these properties. */
const mapping = (properties: Record<string, unknown> = {}): Record<string, MiniResource> => ({
  Mapping: {
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: {
      EventSourceArn: ROOMS_STREAM,
      FunctionName: PRESENCE,
      StartingPosition: 'LATEST',
      ...properties,
    },
  },
});

/** The refusal of a template: the error's code and message. */
function refusal(resources: Readonly<Record<string, MiniResource>>, rooms?: MiniResource) {
  try {
    modelWith(resources, rooms);
  } catch (error) {
    if (error instanceof UnsupportedTemplateError)
      return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the template was accepted');
}

describe('reading a table’s stream', () => {
  it('reads the stream view type and resolves the table’s StreamArn', () => {
    const model = modelWith({});

    expect(model.tables[0]?.streamViewType).toBe('NEW_AND_OLD_IMAGES');
    expect(model.resolution.attributes['Rooms.StreamArn']).toBe(STREAM_ARN);
  });

  it('gives a table without a stream no view type and no StreamArn', () => {
    const model = modelWith({}, tableResource());

    expect(model.tables[0]?.streamViewType).toBeUndefined();
    expect(model.resolution.attributes['Rooms.StreamArn']).toBeUndefined();
  });
});

describe('reading event source mappings', () => {
  it('reads a mapping as CDK synthesizes a DynamoEventSource, every setting', () => {
    const model = modelWith({
      ...mapping({
        BatchSize: 50,
        BisectBatchOnFunctionError: true,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Failures', 'Arn'] } } },
        FilterCriteria: {
          Filters: [
            {
              Pattern:
                '{"eventName":["INSERT","REMOVE"],"dynamodb":{"Keys":{"sk":{"S":[{"prefix":"member#"}]}}}}',
            },
          ],
        },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumBatchingWindowInSeconds: 1,
        MaximumRecordAgeInSeconds: 300,
        MaximumRetryAttempts: 3,
        ParallelizationFactor: 2,
      }),
      Failures: { Type: 'AWS::SQS::Queue' },
    });

    expect(model.eventSourceMappings).toEqual([
      {
        logicalId: 'Mapping',
        functionId: 'PresenceFn',
        tableId: 'Rooms',
        eventSourceArn: STREAM_ARN,
        enabled: true,
        batchSize: 50,
        maximumBatchingWindowInSeconds: 1,
        startingPosition: 'LATEST',
        filters: [
          {
            eventName: ['INSERT', 'REMOVE'],
            dynamodb: { Keys: { sk: { S: [{ prefix: 'member#' }] } } },
          },
        ],
        reportBatchItemFailures: true,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 3,
        maximumRecordAgeInSeconds: 300,
        parallelizationFactor: 2,
        onFailure: 'Failures (AWS::SQS::Queue)',
      },
    ]);
  });

  it('applies AWS’s defaults to what a mapping leaves out', () => {
    const [read] = modelWith(
      mapping({ FunctionName: { 'Fn::GetAtt': ['PresenceFn', 'Arn'] } }),
    ).eventSourceMappings;

    expect(read).toMatchObject({
      functionId: 'PresenceFn',
      enabled: true,
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      filters: [],
      reportBatchItemFailures: false,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      parallelizationFactor: 1,
    });
    expect(read?.onFailure).toBeUndefined();
  });

  it('reads a disabled mapping as disabled', () => {
    expect(modelWith(mapping({ Enabled: false })).eventSourceMappings[0]?.enabled).toBe(false);
  });

  it('ignores, with a notice, a disabled mapping it could not run', () => {
    const model = modelWith({
      ...mapping({ EventSourceArn: { 'Fn::GetAtt': ['Jobs', 'Arn'] }, Enabled: false }),
      Jobs: { Type: 'AWS::SQS::Queue' },
    });

    expect(model.eventSourceMappings).toEqual([]);
    expect(model.notices).toEqual([
      expect.stringMatching(/^Mapping: .*AWS::SQS::Queue Jobs\.Arn; ignored, as it is disabled$/),
    ]);
  });

  it('refuses a mapping from a queue or a Kinesis stream, naming the source', () => {
    const queue = refusal({
      ...mapping({
        EventSourceArn: { 'Fn::GetAtt': ['Jobs', 'Arn'] },
        StartingPosition: undefined,
      }),
      Jobs: { Type: 'AWS::SQS::Queue' },
    });
    const kinesis = refusal(
      mapping({ EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks' }),
    );

    expect(queue).toEqual({
      code: 'unsupported_template',
      message: expect.stringContaining('AWS::SQS::Queue Jobs.Arn'),
    });
    expect(kinesis.message).toContain('not from kinesis');
  });

  it('refuses what it does not emulate, naming the setting', () => {
    expect(refusal(mapping({ TumblingWindowInSeconds: 60 })).message).toContain('tumbling windows');
    expect(refusal(mapping({ SourceAccessConfigurations: [] })).message).toContain(
      'Mapping: SourceAccessConfigurations is not emulated',
    );
    expect(refusal(mapping({ StartingPosition: 'AT_TIMESTAMP' })).message).toContain(
      'StartingPosition must be LATEST or TRIM_HORIZON',
    );
    expect(
      refusal(mapping({ DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sqs:x' } } }))
        .message,
    ).toContain('OnSuccess');
  });

  it('refuses values outside what Lambda accepts', () => {
    expect(refusal(mapping({ BatchSize: 0 })).message).toContain(
      'BatchSize must be an integer from 1 to 10000, got 0',
    );
    expect(refusal(mapping({ ParallelizationFactor: 11 })).message).toContain(
      'ParallelizationFactor',
    );
    expect(refusal(mapping({ MaximumRecordAgeInSeconds: 30 })).message).toContain(
      'MaximumRecordAgeInSeconds must be -1 or 60 to 604800',
    );
    expect(refusal(mapping({ FunctionResponseTypes: ['Other'] })).message).toContain(
      'FunctionResponseTypes',
    );
    expect(
      refusal(mapping({ FilterCriteria: { Filters: [{ Pattern: '{"eventName":"INSERT"}' }] } }))
        .message,
    ).toContain('Mapping: FilterCriteria');
  });

  it('refuses a mapping from a table without a stream, or to no function of the template', () => {
    expect(refusal(mapping(), tableResource()).message).toContain(
      'Rooms has no StreamSpecification',
    );
    expect(refusal(mapping({ FunctionName: 'SomeoneElsesFn' })).message).toContain(
      'FunctionName SomeoneElsesFn is no function of the template',
    );
  });

  it('ignores settings with no local effect, with a notice', () => {
    const model = modelWith(mapping({ MetricsConfig: { Metrics: ['EventCount'] } }));

    expect(model.eventSourceMappings).toHaveLength(1);
    expect(model.notices).toEqual(['Mapping: MetricsConfig has no local effect; ignored']);
  });
});

describe('reading asynchronous invocation settings', () => {
  const invokeConfig = (properties: Record<string, unknown>): Record<string, MiniResource> => ({
    InvokeConfig: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: { FunctionName: PRESENCE, Qualifier: '$LATEST', ...properties },
    },
  });

  it('gives a function without an EventInvokeConfig Lambda’s defaults: 2 retries, 6 hours', () => {
    expect(modelWith({}).functions.get('PresenceFn')?.asyncInvoke).toEqual({
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 21_600,
    });
  });

  it('reads a function’s EventInvokeConfig, on-failure destination included', () => {
    const model = modelWith(
      invokeConfig({
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:dlq' } },
      }),
    );

    expect(model.functions.get('PresenceFn')?.asyncInvoke).toEqual({
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 3600,
      onFailure: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    });
  });

  it('ignores, with a notice, a config for a version or alias the local stack does not run', () => {
    const model = modelWith(invokeConfig({ Qualifier: 'live', MaximumRetryAttempts: 0 }));

    expect(model.functions.get('PresenceFn')?.asyncInvoke.maximumRetryAttempts).toBe(2);
    expect(model.notices).toEqual([expect.stringContaining('PresenceFn:live')]);
  });

  it('refuses what it cannot honour: an on-success destination, more than 2 retries', () => {
    expect(
      refusal(invokeConfig({ DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sqs:x' } } }))
        .message,
    ).toContain('OnSuccess is not emulated');
    expect(refusal(invokeConfig({ MaximumRetryAttempts: 3 })).message).toContain(
      'MaximumRetryAttempts must be an integer from 0 to 2, got 3',
    );
  });
});
