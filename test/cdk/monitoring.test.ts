import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODE_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
} from '../../lambdas/shared/metric-names.js';
import { HANDLER_NAMES } from '../../lib/realtime-stack.js';
import {
  environmentOf,
  functionIdOf,
  logicalIdOf,
  type SynthOptions,
  synthStack,
  type TemplateResource,
  templateJson,
} from '../support/synth.js';

const ALARM_EMAIL = 'ops@example.com';

const { stack, template } = synthStack();
const resources = templateJson(template).Resources;

/** One metric an alarm reads, as synthesized. */
interface AlarmMetric {
  readonly namespace: unknown;
  readonly metricName: unknown;
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly stat: unknown;
  readonly period: unknown;
}

interface SynthesizedDimension {
  readonly Name: string;
  readonly Value: unknown;
}

function dimensionsOf(list: unknown): Record<string, unknown> {
  return Object.fromEntries(
    ((list as SynthesizedDimension[] | undefined) ?? []).map((d) => [d.Name, d.Value]),
  );
}

/** The metrics an alarm reads: its single metric, or every metric of its math expression. */
function metricsOf(alarm: TemplateResource): AlarmMetric[] {
  const p = alarm.Properties ?? {};
  if (p.MetricName !== undefined) {
    return [
      {
        namespace: p.Namespace,
        metricName: p.MetricName,
        dimensions: dimensionsOf(p.Dimensions),
        stat: p.Statistic,
        period: p.Period,
      },
    ];
  }
  const queries = (p.Metrics as { MetricStat?: Record<string, unknown> }[] | undefined) ?? [];
  return queries.flatMap(({ MetricStat: stat }) => {
    if (stat === undefined) return [];
    const metric = stat.Metric as Record<string, unknown>;
    return [
      {
        namespace: metric.Namespace,
        metricName: metric.MetricName,
        dimensions: dimensionsOf(metric.Dimensions),
        stat: stat.Stat,
        period: stat.Period,
      },
    ];
  });
}

function alarmsOf(resourceMap: Record<string, TemplateResource>): [string, TemplateResource][] {
  return Object.entries(resourceMap).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
}

/** Alarms reading `metricName` of `namespace` with (at least) these dimensions. */
function alarmsReading(
  namespace: string,
  metricName: string,
  dimensions: Record<string, unknown>,
  resourceMap = resources,
): TemplateResource[] {
  return alarmsOf(resourceMap)
    .map(([, alarm]) => alarm)
    .filter((alarm) =>
      metricsOf(alarm).some(
        (m) =>
          m.namespace === namespace &&
          m.metricName === metricName &&
          Object.entries(dimensions).every(
            ([name, value]) => JSON.stringify(m.dimensions[name]) === JSON.stringify(value),
          ),
      ),
    );
}

function onlyAlarm(alarms: TemplateResource[]): Record<string, unknown> {
  expect(alarms).toHaveLength(1);
  return alarms[0]?.Properties ?? {};
}

function functionIds(resourceMap = resources): string[] {
  return Object.entries(resourceMap)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id]) => id);
}

/** The dashboard's body with every reference replaced by `<ref>`. */
function dashboardBody(options: SynthOptions = {}): string {
  const { template: t } = options.context === undefined ? { template } : synthStack(options);
  const dashboards = Object.values(templateJson(t).Resources).filter(
    (r) => r.Type === 'AWS::CloudWatch::Dashboard',
  );
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]?.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
}

const service = { [SERVICE_DIMENSION]: stack.stackName };

describe('the alarms', () => {
  it('watch the Errors of every function, one alarm each', () => {
    const ids = functionIds();
    expect(ids.length).toBe(HANDLER_NAMES.length);
    for (const id of ids) {
      expect(alarmsReading('AWS/Lambda', 'Errors', { FunctionName: { Ref: id } }), id).toHaveLength(
        1,
      );
    }
  });

  it('fire on any single error of a function other than the authorizer, over 5 minutes', () => {
    const authorizerId = functionIdOf(stack, 'authorizer');
    for (const id of functionIds().filter((id) => id !== authorizerId)) {
      expect(
        onlyAlarm(alarmsReading('AWS/Lambda', 'Errors', { FunctionName: { Ref: id } })),
      ).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
      });
    }
  });

  it('fire on the authorizer only when half its invocations throw, since it throws to refuse a token', () => {
    const id = functionIdOf(stack, 'authorizer');
    const alarm = onlyAlarm(alarmsReading('AWS/Lambda', 'Errors', { FunctionName: { Ref: id } }));
    expect(alarm.Threshold).toBe(50);
    const metrics = alarm.Metrics as { Expression?: string; ReturnData?: boolean }[];
    expect(metrics.find((m) => m.ReturnData)?.Expression).toBe(
      'IF(invocations >= 20, 100 * errors / invocations, 0)',
    );
    expect(
      metricsOf({ Type: 'AWS::CloudWatch::Alarm', Properties: alarm }).map((m) => m.metricName),
    ).toEqual(['Errors', 'Invocations']);
  });

  it('watch the Throttles of every function, firing on the first one', () => {
    for (const id of functionIds()) {
      expect(
        onlyAlarm(alarmsReading('AWS/Lambda', 'Throttles', { FunctionName: { Ref: id } })),
      ).toMatchObject({ Threshold: 1, Statistic: 'Sum', Period: 300 });
    }
  });

  it('cover functions added beyond the handlers, such as the bench reference', () => {
    const { template: withReference } = synthStack({ context: { REFERENCE_HANDLER: 'true' } });
    const json = templateJson(withReference).Resources;
    const ids = functionIds(json);
    expect(ids).toHaveLength(HANDLER_NAMES.length + 1);
    for (const id of ids) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(
          alarmsReading('AWS/Lambda', metric, { FunctionName: { Ref: id } }, json),
        ).toHaveLength(1);
      }
    }
  });

  it("watch how far the presence function runs behind the table's stream, firing at a minute", () => {
    const id = functionIdOf(stack, 'presence');
    expect(
      onlyAlarm(alarmsReading('AWS/Lambda', 'IteratorAge', { FunctionName: { Ref: id } })),
    ).toMatchObject({
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Maximum',
      Period: 300,
    });
    expect(alarmsReading('AWS/Lambda', 'IteratorAge', {})).toHaveLength(1);
  });

  it('watch the read and write throttle events of the table and of its sweep index', () => {
    const tableId = logicalIdOf(stack, stack.realtime.table.node.defaultChild as CfnTable);
    const table = { TableName: { Ref: tableId } };
    const index = { ...table, GlobalSecondaryIndexName: 'bySweepShard' };
    const [alarm] = alarmsReading('AWS/DynamoDB', 'ReadThrottleEvents', table);
    expect(alarm).toBeDefined();
    const read = metricsOf(alarm as TemplateResource).map((m) => [m.metricName, m.dimensions]);
    expect(read).toEqual([
      ['ReadThrottleEvents', table],
      ['WriteThrottleEvents', table],
      ['ReadThrottleEvents', index],
      ['WriteThrottleEvents', index],
    ]);
    expect(alarm?.Properties).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
  });

  it('watch the delivery failures the functions count, for this stack’s service', () => {
    expect(
      onlyAlarm(alarmsReading(METRICS_NAMESPACE, METRIC.deliveryFailures, service)),
    ).toMatchObject({
      Dimensions: [{ Name: SERVICE_DIMENSION, Value: 'Realtime' }],
      Threshold: 10,
      Statistic: 'Sum',
      Period: 300,
    });
  });

  it('watch the errors answered with the internal code, and no other code', () => {
    const alarms = alarmsReading(METRICS_NAMESPACE, METRIC.errors, service);
    expect(onlyAlarm(alarms)).toMatchObject({ Threshold: 5, EvaluationPeriods: 1 });
    expect(metricsOf(alarms[0] as TemplateResource)).toEqual([
      {
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.errors,
        dimensions: { [SERVICE_DIMENSION]: 'Realtime', [ERROR_CODE_DIMENSION]: 'internal' },
        stat: 'Sum',
        period: 300,
      },
    ]);
  });

  it('select the functions’ metrics by the service name the functions are given', () => {
    const given = environmentOf(template, functionIdOf(stack, 'send')).POWERTOOLS_SERVICE_NAME;
    const alarm = onlyAlarm(alarmsReading(METRICS_NAMESPACE, METRIC.deliveryFailures, {}));
    expect(dimensionsOf(alarm.Dimensions)[SERVICE_DIMENSION]).toBe(given);
  });

  it('all treat missing data as not breaching', () => {
    const alarms = alarmsOf(resources);
    expect(alarms.length).toBe(2 * HANDLER_NAMES.length + 4);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties?.TreatMissingData, id).toBe('notBreaching');
    }
  });
});

describe('the alarm notifications', () => {
  const mailed = templateJson(synthStack({ context: { ALARM_EMAIL } }).template).Resources;
  const ofType = (map: Record<string, TemplateResource>, type: string) =>
    Object.entries(map).filter(([, r]) => r.Type === type);

  it('go nowhere without ALARM_EMAIL: no topic, no alarm action', () => {
    expect(ofType(resources, 'AWS::SNS::Topic')).toEqual([]);
    for (const [, alarm] of alarmsOf(resources)) {
      expect(alarm.Properties?.AlarmActions).toBeUndefined();
    }
  });

  it('mail ALARM_EMAIL through a subscription to one topic', () => {
    const [topic] = ofType(mailed, 'AWS::SNS::Topic');
    expect(ofType(mailed, 'AWS::SNS::Topic')).toHaveLength(1);
    expect(ofType(mailed, 'AWS::SNS::Subscription').map(([, s]) => s.Properties)).toEqual([
      { Protocol: 'email', Endpoint: ALARM_EMAIL, TopicArn: { Ref: topic?.[0] } },
    ]);
  });

  it('are sent by every alarm when it fires and when it recovers', () => {
    const [[topicId] = []] = ofType(mailed, 'AWS::SNS::Topic');
    const alarms = alarmsOf(mailed);
    expect(alarms.length).toBe(2 * HANDLER_NAMES.length + 4);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.OKActions, id).toEqual([{ Ref: topicId }]);
    }
  });

  it('travel through a topic that refuses publishing without TLS', () => {
    const [[topicId] = []] = ofType(mailed, 'AWS::SNS::Topic');
    const policies = ofType(mailed, 'AWS::SNS::TopicPolicy').map(([, p]) => p.Properties);
    expect(policies).toEqual([
      {
        Topics: [{ Ref: topicId }],
        PolicyDocument: expect.objectContaining({
          Statement: [
            expect.objectContaining({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        }),
      },
    ]);
  });
});

describe('the dashboard', () => {
  const body = dashboardBody();

  it('graphs every metric the functions emit, in their namespace', () => {
    expect(body).toContain(`"${METRICS_NAMESPACE}"`);
    for (const name of Object.values(METRIC)) expect(body, name).toContain(`"${name}"`);
  });

  it('graphs the functions’ metrics of this stack’s service only', () => {
    expect(body).toContain(`"${SERVICE_DIMENSION}","Realtime"`);
    const dev = dashboardBody({ context: { STAGE: 'dev' } });
    expect(dev).toContain(`"${SERVICE_DIMENSION}","Realtime-dev"`);
    expect(dev).not.toContain(`"${SERVICE_DIMENSION}","Realtime"`);
  });

  it('graphs the errors of every code, and the internal ones on their own', () => {
    expect(body).toContain(
      `SEARCH('{${METRICS_NAMESPACE},${SERVICE_DIMENSION},${ERROR_CODE_DIMENSION}} MetricName=\\"${METRIC.errors}\\" ${SERVICE_DIMENSION}=\\"Realtime\\"', 'Sum', 300)`,
    );
    expect(body).toContain(`"${ERROR_CODE_DIMENSION}","internal"`);
  });

  it('graphs the fan-out duration at p50 and p99', () => {
    expect(body).toMatch(new RegExp(`"${METRIC.fanOutDuration}".*"stat":"p50"`));
    expect(body).toMatch(new RegExp(`"${METRIC.fanOutDuration}".*"stat":"p99"`));
  });

  it('graphs the WebSocket API’s stage', () => {
    for (const name of [
      'ConnectCount',
      'MessageCount',
      'IntegrationError',
      'ClientError',
      'ExecutionError',
    ]) {
      expect(body).toContain(`["AWS/ApiGateway","${name}","ApiId","<ref>","Stage","prod"`);
    }
  });

  it('graphs the errors, throttles and duration of every function', () => {
    for (const handler of HANDLER_NAMES) {
      const label = stack.realtime.functions[handler].node.id;
      for (const metric of ['Errors', 'Throttles', 'Duration']) {
        expect(body).toContain(
          `["AWS/Lambda","${metric}","FunctionName","<ref>",{"label":"${label}"`,
        );
      }
    }
  });

  it('graphs the table’s consumed capacity and throttle events', () => {
    for (const name of [
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
    ]) {
      expect(body).toContain(`"AWS/DynamoDB","${name}"`);
    }
  });

  it('is linked from the stack’s outputs', () => {
    const outputs = templateJson(template).Outputs ?? {};
    expect(JSON.stringify(outputs.DashboardUrl?.Value)).toContain('#dashboards/dashboard/');
  });
});

describe('the functions’ Powertools settings', () => {
  it.each([
    ['prod', {}, 'Realtime'],
    ['dev', { STAGE: 'dev' }, 'Realtime-dev'],
  ])('name the %s stack as the service of every function', (_, context, name) => {
    const synthesized = synthStack({ context });
    for (const handler of HANDLER_NAMES) {
      const env = environmentOf(synthesized.template, functionIdOf(synthesized.stack, handler));
      expect(env, handler).toMatchObject({
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      });
    }
  });
});
