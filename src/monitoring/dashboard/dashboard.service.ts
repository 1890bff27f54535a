import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AlertsService } from '../alerts/alerts.service';
import { MetricsService } from '../metrics/metrics.service';
import { SamplesRepository } from '../metrics/samples.repository';

const HEADLINE = [
  'host_cpu_usage_percent',
  'host_memory_usage_percent',
  'process_event_loop_lag_seconds',
  'process_resident_memory_bytes',
];

export interface Dashboard {
  generatedAt: string;
  current: { at: string | null; instance: string; values: Record<string, number> };
  alerts: { open: number; byLevel: Record<string, number>; byState: Record<string, number> };
  status: {
    database: { up: boolean; latencyMs: number | null };
    redis: 'up' | 'down' | 'not-configured';
    disk: { mount: string; usagePercent: number; freeBytes: number }[];
    gatewayClients: number | null;
  };
  sparklines: Record<string, [string, number][]>;
}

/** The dashboard in one answer: memory for metrics and sparklines, two small queries. */
@Injectable()
export class DashboardService {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly alerts: AlertsService,
    private readonly samples: SamplesRepository,
  ) {}

  async build(): Promise<Dashboard> {
    const latest = this.metrics.latest();
    const values = latest?.values ?? {};
    const [counts, db] = await Promise.all([
      this.alerts.countOpen(),
      this.samples.ping().then(
        (ms) => ({ up: true, latencyMs: Math.round(ms * 100) / 100 }),
        () => ({ up: false, latencyMs: null }),
      ),
    ]);
    const byLevel: Record<string, number> = { info: 0, warning: 0, error: 0, critical: 0 };
    const byState: Record<string, number> = { pending: 0, firing: 0, acknowledged: 0 };
    for (const c of counts) {
      byLevel[c.level] += c.n;
      byState[c.state] += c.n;
    }
    const disk = Object.entries(values)
      .filter(([k]) => k.startsWith('host_disk_usage_percent{'))
      .map(([k, v]) => {
        const mount = /mount="([^"]*)"/.exec(k)?.[1] ?? '';
        return { mount, usagePercent: v, freeBytes: values[`host_disk_free_bytes{mount="${mount}"}`] ?? 0 };
      });
    const sparklines: Dashboard['sparklines'] = {};
    for (const name of HEADLINE) {
      sparklines[name] = this.metrics
        .recentSamples()
        .filter((s) => name in s.values)
        .slice(-30)
        .map((s) => [s.at.toISOString(), s.values[name]]);
    }
    return {
      generatedAt: new Date().toISOString(),
      current: {
        at: latest?.at.toISOString() ?? null,
        instance: this.config.monitoring.instance,
        values: Object.fromEntries(HEADLINE.filter((k) => k in values).map((k) => [k, values[k]])),
      },
      alerts: { open: counts.reduce((n, c) => n + c.n, 0), byLevel, byState },
      status: {
        database: db,
        redis: !this.config.redisUrl ? 'not-configured' : values.redis_up === 1 ? 'up' : 'down',
        disk,
        // The live gateway reports its clients through its own metrics; none is wired here yet.
        gatewayClients: null,
      },
      sparklines,
    };
  }
}
