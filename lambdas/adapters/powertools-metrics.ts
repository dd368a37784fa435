import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ErrorCode } from '../../protocol/messages.js';
import type { CountMetric, MetricsRecorder } from '../domain/ports.js';
import { ERROR_CODE_DIMENSION, METRIC, METRICS_NAMESPACE } from '../shared/metric-names.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Powertools Metrics for a function: namespace from `POWERTOOLS_METRICS_NAMESPACE`
 * or METRICS_NAMESPACE, the `service` dimension from `POWERTOOLS_SERVICE_NAME`.
 */
export function createMetrics(env: Env = process.env): Metrics {
  return new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE });
}

/**
 * Records metrics as embedded-metric-format lines on stdout, which CloudWatch
 * turns into metrics without an API call. Counts are summed until `flush`, so
 * a fan-out to a thousand connections writes one `Deliveries` value, not a
 * thousand; each fan-out's duration is one value of `FanOutDuration`.
 */
export class PowertoolsMetrics implements MetricsRecorder {
  readonly #counts = new Map<CountMetric, number>();
  readonly #errors = new Map<ErrorCode, number>();

  constructor(private readonly metrics: Metrics = createMetrics()) {}

  count(metric: CountMetric, value: number): void {
    if (value > 0) this.#counts.set(metric, (this.#counts.get(metric) ?? 0) + value);
  }

  fanOutDuration(milliseconds: number): void {
    this.metrics.addMetric(METRIC.fanOutDuration, MetricUnit.Milliseconds, milliseconds);
  }

  errorAnswered(code: ErrorCode): void {
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  flush(): void {
    for (const [metric, value] of this.#counts) {
      this.metrics.addMetric(metric, MetricUnit.Count, value);
    }
    this.#counts.clear();
    // Powertools warns on an empty flush; an invocation that counted nothing writes nothing.
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
    // An EMF line's dimensions apply to all of its metrics, so `Errors` with
    // its `code` goes on a line of its own (one per code), written at once.
    for (const [code, value] of this.#errors) {
      const single = this.metrics.singleMetric();
      single.addDimension(ERROR_CODE_DIMENSION, code);
      single.addMetric(METRIC.errors, MetricUnit.Count, value);
    }
    this.#errors.clear();
  }
}
