import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import {
  ERROR_CODE_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
} from '../../lambdas/shared/metric-names.js';
import type { RealtimeTable } from './realtime-table.js';
import type { RealtimeWebSocket } from './realtime-websocket.js';

/** Properties of a `RealtimeMonitoring`. */
export interface RealtimeMonitoringProps {
  /** Every function of the stack: each gets an Errors and a Throttles alarm and dashboard lines. */
  readonly functions: readonly lambda.IFunction[];
  /**
   * The `$connect` authorizer, one of `functions`. It refuses a token by
   * throwing `Unauthorized`, so its Errors count refused handshakes too.
   * @default - no function's Errors include refusals
   */
  readonly authorizer?: lambda.IFunction;
  /**
   * The function the table's stream feeds (`presence`): its IteratorAge, how
   * far behind the stream it runs, is alarmed.
   * @default - no stream consumer is watched
   */
  readonly streamConsumer?: lambda.IFunction;
  /** The table whose capacity and throttling are watched, indexes included. */
  readonly table: RealtimeTable;
  /** The WebSocket API whose stage is graphed. */
  readonly api: RealtimeWebSocket;
  /**
   * The `service` dimension the functions' own metrics carry (their
   * POWERTOOLS_SERVICE_NAME).
   * @default - the stack's name
   */
  readonly serviceName?: string;
  /**
   * An address that is mailed when an alarm fires and when it recovers.
   * @default - no notifications: the alarms show in the console only
   */
  readonly alarmEmail?: string;
  /**
   * A topic the alarms notify when they fire and when they recover, instead
   * of one made for `alarmEmail`.
   * @default - the topic made for `alarmEmail`, if any
   */
  readonly alarmTopic?: sns.ITopic;
}

const PERIOD = Duration.minutes(5);

// A function error is an unhandled exception, a timeout or a crash: handlers
// answer every failure they catch with an error frame, so one is already a bug.
const FUNCTION_ERRORS_THRESHOLD = 1;
// Every throttled invocation is a request API Gateway failed.
const FUNCTION_THROTTLES_THRESHOLD = 1;
// Percent of the authorizer's invocations that threw, with at least
// AUTHORIZER_MIN_INVOCATIONS of them: a few refused tokens are normal, most
// handshakes refused is a wrong JWT_ISSUER/JWT_AUDIENCE, an unreachable JWKS or
// an unreadable secret.
const AUTHORIZER_ERROR_PERCENT_THRESHOLD = 50;
const AUTHORIZER_MIN_INVOCATIONS = 20;
// On-demand tables throttle only past twice their previous peak or at the
// table's limit; retries hide the first events from clients, not for long.
const TABLE_THROTTLES_THRESHOLD = 1;
// Members miss a live frame (they recover it with `history`); a few are
// tolerable, this many in five minutes means posting itself is failing.
const DELIVERY_FAILURES_THRESHOLD = 10;
// `internal` is answered once retries within the function's time ran out.
const INTERNAL_ERRORS_THRESHOLD = 5;
// Presence changes reach members within 2 s (PROTOCOL.md 4.1). A stream
// consumer a minute behind is retrying failed batches (which it reports
// without throwing, so its Errors stay quiet) or cannot keep up.
const ITERATOR_AGE_THRESHOLD_MS = 60_000;

/**
 * Alarms and a dashboard for the stack: function errors and throttles,
 * DynamoDB throttling, and the functions' own embedded-metric-format metrics
 * (lambdas/shared/metric-names.ts), with an optional email topic the alarms
 * notify.
 */
export class RealtimeMonitoring extends Construct {
  /** Every alarm. */
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The topic the alarms notify, when one was given or made for an address. */
  readonly topic?: sns.ITopic;
  /** The dashboard. */
  readonly dashboard: cloudwatch.Dashboard;
  /** The dashboard's address in the CloudWatch console. */
  readonly dashboardUrl: string;
  private readonly authorizer?: lambda.IFunction;

  constructor(scope: Construct, id: string, props: RealtimeMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const service = props.serviceName ?? stack.stackName;
    const own = (metricName: string, options: cloudwatch.MetricOptions = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { [SERVICE_DIMENSION]: service, ...options.dimensionsMap },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
        ...(options.label === undefined ? {} : { label: options.label }),
        ...(options.statistic === undefined ? {} : { statistic: options.statistic }),
      });
    const internalErrors = own(METRIC.errors, {
      dimensionsMap: { [ERROR_CODE_DIMENSION]: 'internal' },
      label: 'internal',
    });
    const table = props.table.table;
    const tableThrottles = throttleEvents(table, props.table.indexNames);

    this.topic =
      props.alarmTopic ??
      (props.alarmEmail === undefined ? undefined : emailTopic(this, service, props.alarmEmail));
    this.authorizer = props.authorizer;
    for (const fn of props.functions) this.watchFunction(fn);
    if (props.streamConsumer !== undefined) {
      const name = props.streamConsumer.node.id;
      this.alarm(
        `${name}IteratorAge`,
        props.streamConsumer.metric('IteratorAge', {
          statistic: cloudwatch.Stats.MAXIMUM,
          period: PERIOD,
        }),
        {
          threshold: ITERATOR_AGE_THRESHOLD_MS,
          description: `${name} runs a minute or more behind the table's stream: presence changes are late`,
        },
      );
    }
    this.alarm('TableThrottles', tableThrottles, {
      threshold: TABLE_THROTTLES_THRESHOLD,
      description: 'DynamoDB throttled reads or writes of the table or its indexes',
    });
    this.alarm('DeliveryFailures', own(METRIC.deliveryFailures), {
      threshold: DELIVERY_FAILURES_THRESHOLD,
      description: 'Posts to connections keep failing after retries: members miss live messages',
    });
    this.alarm('InternalErrors', internalErrors, {
      threshold: INTERNAL_ERRORS_THRESHOLD,
      description: 'Requests answered with the internal error code',
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    const api = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.api.api.apiId, Stage: props.api.stage.stageName },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
      });
    const perFunction = (metric: (fn: lambda.IFunction) => cloudwatch.IMetric) =>
      props.functions.map(metric);
    this.dashboard.addWidgets(
      graph('Connections', [
        own(METRIC.connectionsOpened, { label: 'opened' }),
        own(METRIC.connectionsClosed, { label: 'closed' }),
        own(METRIC.gonePruned, { label: 'gone, pruned' }),
        own(METRIC.goneHandedOff, { label: 'gone, handed to prune' }),
        own(METRIC.goneHandOffFailures, { label: 'gone, not handed over' }),
      ]),
      graph('Messages and deliveries', [
        own(METRIC.messagesSent, { label: 'messages sent' }),
        own(METRIC.deliveries, { label: 'deliveries' }),
        own(METRIC.deliveryFailures, { label: 'delivery failures' }),
        own(METRIC.presenceFrames, { label: 'presence frames' }),
      ]),
      graph('Errors answered, by code', [
        new cloudwatch.SearchExpression({
          expression:
            `SEARCH('{${METRICS_NAMESPACE},${SERVICE_DIMENSION},${ERROR_CODE_DIMENSION}} ` +
            `MetricName="${METRIC.errors}" ${SERVICE_DIMENSION}="${service}"', 'Sum', ${PERIOD.toSeconds()})`,
          period: PERIOD,
        }),
        internalErrors,
      ]),
      graph('Fan-out duration (ms)', [
        own(METRIC.fanOutDuration, { statistic: cloudwatch.Stats.p(50), label: 'p50' }),
        own(METRIC.fanOutDuration, { statistic: cloudwatch.Stats.p(99), label: 'p99' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'API Gateway',
        [
          api('ConnectCount'),
          api('MessageCount'),
          api('ClientError'),
          api('IntegrationError'),
          api('ExecutionError'),
        ],
        3,
      ),
      graph(
        'DynamoDB consumed capacity',
        [
          table.metricConsumedReadCapacityUnits({ period: PERIOD, label: 'read units' }),
          table.metricConsumedWriteCapacityUnits({ period: PERIOD, label: 'write units' }),
        ],
        3,
      ),
      graph('DynamoDB throttle events', [tableThrottles], 3),
    );
    this.dashboard.addWidgets(
      graph(
        'Function errors',
        perFunction((fn) => fn.metricErrors({ period: PERIOD, label: fn.node.id })),
        3,
      ),
      graph(
        'Function throttles',
        perFunction((fn) => fn.metricThrottles({ period: PERIOD, label: fn.node.id })),
        3,
      ),
      graph(
        'Function duration p99 (ms)',
        perFunction((fn) =>
          fn.metricDuration({
            period: PERIOD,
            statistic: cloudwatch.Stats.p(99),
            label: fn.node.id,
          }),
        ),
        3,
      ),
    );

    this.dashboardUrl = `https://console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }

  /**
   * Alarms on a function's errors and throttles, like the API's own: for a
   * function of yours that is part of the API's work.
   */
  watchFunction(fn: lambda.IFunction): void {
    const name = fn.node.id;
    if (fn === this.authorizer) {
      this.alarm(`${name}Errors`, errorShare(fn, `${name} errors (% of invocations)`), {
        threshold: AUTHORIZER_ERROR_PERCENT_THRESHOLD,
        description: `${name}: most handshakes refused or failed (check the JWT settings, JWKS and secret)`,
      });
    } else {
      this.alarm(`${name}Errors`, fn.metricErrors({ period: PERIOD }), {
        threshold: FUNCTION_ERRORS_THRESHOLD,
        description: `${name} failed: an unhandled error, a timeout or a crash`,
      });
    }
    this.alarm(`${name}Throttles`, fn.metricThrottles({ period: PERIOD }), {
      threshold: FUNCTION_THROTTLES_THRESHOLD,
      description: `${name} was throttled: the account's Lambda concurrency ran out`,
    });
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    options: { readonly threshold: number; readonly description: string },
  ): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold: options.threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // No data is no traffic, or a metric only published when non-zero.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: options.description,
      }),
    );
    const alarm = this.alarms.at(-1);
    if (this.topic !== undefined && alarm !== undefined) {
      const action = new actions.SnsAction(this.topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}

/** A topic that mails `address` (once the address confirms the subscription). */
function emailTopic(scope: Construct, service: string, address: string): sns.ITopic {
  // Not encrypted with KMS: notifications carry an alarm's name, metric and
  // state, nothing of users; the AWS managed key (alias/aws/sns) cannot be
  // used, as its key policy cannot let CloudWatch publish
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html).
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: `${service} alarms`,
    enforceSSL: true,
  });
  topic.addSubscription(new subscriptions.EmailSubscription(address));
  return topic;
}

/** Percent of a function's invocations that failed; 0 below AUTHORIZER_MIN_INVOCATIONS. */
function errorShare(fn: lambda.IFunction, label: string): cloudwatch.IMetric {
  return new cloudwatch.MathExpression({
    expression: `IF(invocations >= ${AUTHORIZER_MIN_INVOCATIONS}, 100 * errors / invocations, 0)`,
    usingMetrics: {
      errors: fn.metricErrors({ period: PERIOD }),
      invocations: fn.metricInvocations({ period: PERIOD }),
    },
    label,
    period: PERIOD,
  });
}

/** Read and write throttle events of a table and its indexes, summed. */
function throttleEvents(table: dynamodb.ITable, indexNames: readonly string[]): cloudwatch.IMetric {
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  const targets = [{}, ...indexNames.map((name) => ({ GlobalSecondaryIndexName: name }))];
  targets.forEach((index, i) => {
    for (const [kind, metricName] of [
      ['reads', 'ReadThrottleEvents'],
      ['writes', 'WriteThrottleEvents'],
    ] as const) {
      usingMetrics[`${kind}${i}`] = table.metric(metricName, {
        dimensionsMap: { TableName: table.tableName, ...index },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
      });
    }
  });
  return new cloudwatch.MathExpression({
    // DynamoDB publishes these only when non-zero: FILL keeps one missing series
    // from hiding the others' events.
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics,
    label: 'throttle events',
    period: PERIOD,
  });
}

/** A graph of a dashboard row of `perRow` graphs. */
function graph(title: string, left: cloudwatch.IMetric[], perRow = 4): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: 24 / perRow, height: 6 });
}
