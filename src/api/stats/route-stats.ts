import { LatencyHistogram } from './latency-histogram';

export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** Latency percentiles in milliseconds (microsecond resolution); null before the first request. */
export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface RouteStatsSnapshot {
  requests: number;
  /** Responses by status class. 1xx and non-standard codes count in `requests` only. */
  statusClasses: Record<StatusClass, number>;
  latencyMs: LatencySummary;
}

/** The status class of a final response status, or undefined outside 200–599. */
export function statusClassOf(status: number): StatusClass | undefined {
  const hundreds = Math.floor(status / 100);
  return hundreds >= 2 && hundreds <= 5 ? STATUS_CLASSES[hundreds - 2] : undefined;
}

const toMs = (micros: number | undefined): number | null => (micros === undefined ? null : Math.round(micros) / 1000);

/** Request count, responses by status class and a latency histogram for one route. Constant memory. */
export class RouteStats {
  private requests = 0;
  private readonly classes: Record<StatusClass, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  private readonly latency = new LatencyHistogram();

  record(status: number, durationMs: number): void {
    this.requests += 1;
    const cls = statusClassOf(status);
    if (cls) this.classes[cls] += 1;
    this.latency.record(durationMs * 1000);
  }

  snapshot(): RouteStatsSnapshot {
    return {
      requests: this.requests,
      statusClasses: { ...this.classes },
      latencyMs: {
        p50: toMs(this.latency.percentile(0.5)),
        p95: toMs(this.latency.percentile(0.95)),
        p99: toMs(this.latency.percentile(0.99)),
        max: toMs(this.latency.max),
      },
    };
  }
}
