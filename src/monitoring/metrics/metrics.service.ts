import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import Redis from 'ioredis';
import { Gauge } from 'prom-client';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { MetricsRegistry } from '../../common/metrics/metrics-registry';
import { parseSeriesKey, seriesKey } from '../alerts/alert-logic';
import { MonitoringEvents, type MetricsSampledEvent } from '../monitoring.events';
import { HostCollector } from './host-collector';
import { BUILTIN_METRICS, type MetricDescriptor } from './metric-catalogue';
import { MetricSources } from './metric-sources';
import { MonitoringCounters, type Totals } from './monitoring-counters.service';
import { SamplesRepository, type StoredSample } from './samples.repository';

/** Samples kept in memory for the dashboard's sparklines. */
const RECENT = 90;
/** Most points a series answer may hold. */
const MAX_POINTS = 2000;

export interface Sample {
  at: Date;
  instance: string;
  values: Record<string, number>;
}

export interface SeriesAnswer {
  from: string;
  to: string;
  step: number;
  source: 'raw' | 'rollup';
  series: { metric: string; labels: Record<string, string>; points: [string, number][] }[];
}

/**
 * Collection and history: one sample per interval from the host collector and the registered
 * sources, stored, exposed as Prometheus gauges and announced (`monitoring.metrics.sampled`);
 * series read back from the raw table (recent) or the 1-minute averages (older).
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  private readonly logger = new Logger(MetricsService.name);
  private readonly host: HostCollector;
  private readonly recent: Sample[] = [];
  private readonly gauges = new Map<string, { gauge: Gauge; scale: number }>();
  private lastTotals: { at: number; totals: Totals } | undefined;
  private redis: Redis | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly samples: SamplesRepository,
    private readonly sources: MetricSources,
    private readonly counters: MonitoringCounters,
    private readonly events: EventEmitter2,
    metrics: MetricsRegistry,
  ) {
    this.host = new HostCollector(config.dataDir);
    for (const m of BUILTIN_METRICS) {
      if (!m.prometheus) continue;
      const gauge = new Gauge({
        name: m.prometheus,
        help: m.unit === 'percent' ? `${m.help.replace(/\.$/, '')} (0-1).` : m.help,
        labelNames: m.labels,
        registers: [metrics.registry],
      });
      this.gauges.set(m.name, { gauge, scale: m.unit === 'percent' ? 0.01 : 1 });
    }
  }

  onModuleDestroy(): void {
    this.host.stop();
    this.redis?.disconnect();
  }

  /** Every metric that can be sampled: built-in and from registered sources. */
  catalogue(): MetricDescriptor[] {
    return [...BUILTIN_METRICS, ...this.sources.all().flatMap((s) => s.describe())];
  }

  /** Takes one sample, stores it, updates the gauges and emits `monitoring.metrics.sampled`. */
  async collect(now = new Date()): Promise<Sample> {
    const values = this.host.collect(now.getTime());
    const pool = this.samples.pool();
    if (pool) {
      values[seriesKey('db_pool_connections', { state: 'in_use' })] = pool.inUse;
      values[seriesKey('db_pool_connections', { state: 'idle' })] = pool.idle;
      values[seriesKey('db_pool_connections', { state: 'waiting' })] = pool.waiting;
    }
    values.ready = await this.samples.ping().then(
      () => 1,
      () => 0,
    );
    const redis = await this.pingRedis();
    if (redis !== undefined) values.redis_up = redis;
    Object.assign(values, this.rates(now.getTime()));
    for (const source of this.sources.all()) {
      try {
        Object.assign(values, await source.collect());
      } catch (err) {
        this.logger.warn(`a metric source failed: ${(err as Error).message}`);
      }
    }

    const sample: Sample = { at: now, instance: this.config.monitoring.instance, values };
    if (values.ready === 1) await this.samples.insert(sample.instance, now, values);
    this.recent.push(sample);
    if (this.recent.length > RECENT) this.recent.shift();
    this.updateGauges(values);
    const event: MetricsSampledEvent = { at: now.toISOString(), values };
    this.events.emit(MonitoringEvents.MetricsSampled, event);
    return sample;
  }

  /** The newest sample of this instance (in memory), if one was taken. */
  latest(): Sample | undefined {
    return this.recent[this.recent.length - 1];
  }

  /** Samples of this instance in memory, oldest first. */
  recentSamples(): readonly Sample[] {
    return this.recent;
  }

  /** The newest stored sample of every instance that reported within three intervals. */
  latestStored(now = new Date()): Promise<StoredSample[]> {
    const window = Math.max(3 * this.config.monitoring.intervalSeconds, 30) * 1000;
    return this.samples.latestPerInstance(new Date(now.getTime() - window));
  }

  /** A series of the given metrics between `from` and `to`, averaged per `step` seconds. */
  async series(metrics: string[], from: Date, to: Date, stepSeconds?: number): Promise<SeriesAnswer> {
    if (!(from < to)) throw AppException.validation([{ field: 'from', message: 'from must be before to' }]);
    const known = new Set(this.catalogue().map((m) => m.name));
    const unknown = metrics.filter((m) => !known.has(m));
    if (unknown.length > 0) {
      throw AppException.validation([{ field: 'metric', message: `unknown metric(s): ${unknown.join(', ')}` }]);
    }
    const spanSeconds = (to.getTime() - from.getTime()) / 1000;
    const rawSince = Date.now() - this.config.monitoring.rawRetentionHours * 3600_000;
    const source: 'raw' | 'rollup' = from.getTime() >= rawSince ? 'raw' : 'rollup';
    const minStep = source === 'raw' ? this.config.monitoring.intervalSeconds : 60;
    const step = Math.max(stepSeconds ?? Math.ceil(spanSeconds / 300), minStep, Math.ceil(spanSeconds / MAX_POINTS));

    const keys = (await Promise.all(metrics.map((m) => this.samples.keysLike(m, from)))).flat();
    const points = keys.length > 0 ? await this.samples.series(keys, from, to, step, source) : [];
    const bySeries = new Map<string, SeriesAnswer['series'][number]>();
    for (const p of points) {
      const id = `${p.instance}\u0000${p.key}`;
      let s = bySeries.get(id);
      if (!s) {
        const parsed = parseSeriesKey(p.key);
        s = { metric: parsed.metric, labels: { ...parsed.labels, instance: p.instance }, points: [] };
        bySeries.set(id, s);
      }
      s.points.push([p.t.toISOString(), Math.round(p.v * 1e6) / 1e6]);
    }
    return { from: from.toISOString(), to: to.toISOString(), step, source, series: [...bySeries.values()] };
  }

  /** Rolls finished minutes into 1-minute averages and drops what is past retention. */
  async maintain(now = new Date()): Promise<void> {
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    await this.samples.rollUp(new Date(minute.getTime() - 10 * 60_000), minute);
    await this.samples.prune(
      new Date(now.getTime() - this.config.monitoring.rawRetentionHours * 3600_000),
      new Date(now.getTime() - this.config.monitoring.rollupRetentionDays * 86_400_000),
    );
  }

  private rates(nowMs: number): Record<string, number> {
    const totals = { ...this.counters.totals };
    const last = this.lastTotals;
    this.lastTotals = { at: nowMs, totals };
    if (!last || nowMs <= last.at) return {};
    const perMinute = (a: number, b: number): number => Math.round(((a - b) * 60_000 * 100) / (nowMs - last.at)) / 100;
    return {
      trades_ingested_per_minute: perMinute(totals.tradesIngested, last.totals.tradesIngested),
      price_updates_per_minute: perMinute(totals.priceUpdates, last.totals.priceUpdates),
      logins_failed_per_minute: perMinute(totals.loginsFailed, last.totals.loginsFailed),
      account_lockouts_per_minute: perMinute(totals.lockouts, last.totals.lockouts),
      security_events_per_minute: perMinute(totals.securityEvents, last.totals.securityEvents),
    };
  }

  private updateGauges(values: Record<string, number>): void {
    for (const { gauge } of this.gauges.values()) gauge.reset();
    for (const [key, value] of Object.entries(values)) {
      const { metric, labels } = parseSeriesKey(key);
      const g = this.gauges.get(metric);
      if (g) g.gauge.set(labels, value * g.scale);
    }
  }

  private async pingRedis(): Promise<number | undefined> {
    if (!this.config.redisUrl) return undefined;
    try {
      this.redis ??= new Redis(this.config.redisUrl, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        connectTimeout: 1000,
      });
      if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
      return (await this.redis.ping()) === 'PONG' ? 1 : 0;
    } catch {
      return 0;
    }
  }
}
