import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, type Registry } from 'prom-client';
import { MetricsRegistry } from '../../common/metrics/metrics-registry';

/** The `route` label of requests that match no route: one series, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Seconds, from 250 µs to 10 s: most answers take 1-3 ms, so the buckets resolve sub-millisecond
 * times (prom-client's defaults start at 5 ms and put nearly every request in the first bucket).
 */
export const DURATION_BUCKETS = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const NONCONFORMING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type Label = 'method' | 'route' | 'status';

interface Series {
  requests: Counter.Internal;
  duration: Histogram.Internal<Label>;
}

/**
 * The HTTP metrics and Node's default process metrics (`process_cpu_user_seconds_total`, heap,
 * event loop lag, GC, ...) on the application's one registry ({@link MetricsRegistry}, in
 * common/), where the monitoring module registers its own; {@link render} exposes them all.
 *
 * Label values are bounded: `route` is a template from the route registry or `unmatched`,
 * `method` one of seven or `OTHER`, `status` a code the server itself answered with.
 */
@Injectable()
export class PrometheusService {
  readonly registry: Registry;
  private readonly requests: Counter<Label>;
  private readonly duration: Histogram<Label>;
  /** Label-bound children, so a request costs no label hashing once its series exists. */
  private readonly series = new Map<string, Series>();

  constructor(metrics: MetricsRegistry) {
    this.registry = metrics.registry;
    collectDefaultMetrics({ register: this.registry });
    // prom-client's totals of active handles, requests and resources are gauges named `_total`,
    // which `promtool check metrics` rejects; the per-type gauges without the suffix stay.
    for (const name of NONCONFORMING_DEFAULTS) this.registry.removeSingleMetric(name);
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to finishing its response, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Counts one answered request. `route` must be a template or {@link UNMATCHED_ROUTE}, never a raw URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : 'OTHER';
    const key = `${m} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      const labels = { method: m, route, status: String(status) };
      series = { requests: this.requests.labels(labels), duration: this.duration.labels(labels) };
      this.series.set(key, series);
    }
    series.requests.inc();
    series.duration.observe(seconds);
  }

  /** The text exposition of every metric in the registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
