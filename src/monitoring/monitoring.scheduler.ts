import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig } from '../common/config/app-config';
import { InjectConfig } from '../common/config/config.module';
import { AlertsService } from './alerts/alerts.service';
import { MetricsService } from './metrics/metrics.service';
import { NotificationsService } from './notifications/notifications.service';
import { SamplesRepository } from './metrics/samples.repository';

const INTERVAL_NAME = 'monitoring.tick';

/**
 * The monitoring schedule (an interval of MONITORING_INTERVAL_SECONDS in @nestjs/schedule's
 * registry). Each tick every instance samples itself; evaluation and the hourly roll-up are
 * claimed per interval slot so that one instance does them; every instance delivers due
 * notifications (claimed row by row). Thin: each step is one service call, failures logged.
 */
@Injectable()
export class MonitoringScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MonitoringScheduler.name);
  private running = false;
  private stopped = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly metrics: MetricsService,
    private readonly alerts: AlertsService,
    private readonly notifications: NotificationsService,
    private readonly claims: SamplesRepository,
  ) {}

  onApplicationBootstrap(): void {
    const handle = setInterval(() => void this.tick(), this.config.monitoring.intervalSeconds * 1000);
    handle.unref();
    this.registry.addInterval(INTERVAL_NAME, handle);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.registry.doesExist('interval', INTERVAL_NAME)) this.registry.deleteInterval(INTERVAL_NAME);
  }

  /** One tick; returns whether this instance evaluated the rules (claimed the slot). */
  async tick(now = new Date()): Promise<boolean> {
    if (this.running || this.stopped) return false;
    this.running = true;
    try {
      await this.step('collect', () => this.metrics.collect(now));
      const evaluated = await this.runEvaluation(now);
      const hour = Math.floor(now.getTime() / 3600_000);
      if (await this.claims.claim('monitoring.maintain', hour, this.config.monitoring.instance).catch(() => false)) {
        await this.step('maintain', () => this.metrics.maintain(now));
      }
      await this.step('dispatch', () => this.notifications.dispatchDue());
      return evaluated;
    } finally {
      this.running = false;
    }
  }

  /** Evaluates once per interval slot across instances: true when this instance did it. */
  async runEvaluation(now = new Date()): Promise<boolean> {
    const slot = Math.floor(now.getTime() / (this.config.monitoring.intervalSeconds * 1000));
    const claimed = await this.claims.claim('monitoring.evaluate', slot, this.config.monitoring.instance);
    if (!claimed) return false;
    const result = await this.step('evaluate', () => this.alerts.evaluate(now));
    return result !== null && result !== undefined;
  }

  private async step<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      this.logger.error(`monitoring ${name} failed: ${(err as Error).message}`, (err as Error).stack);
      return undefined;
    }
  }
}
