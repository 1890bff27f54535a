import { Global, Module } from '@nestjs/common';
import { SecurityModule } from '../security/security.module';
import { AlertRulesController } from './alerts/alert-rules.controller';
import { AlertRulesRepository } from './alerts/alert-rules.repository';
import { AlertRulesService } from './alerts/alert-rules.service';
import { AlertsController } from './alerts/alerts.controller';
import { AlertsRepository } from './alerts/alerts.repository';
import { AlertsService } from './alerts/alerts.service';
import { DashboardService } from './dashboard/dashboard.service';
import { MonitoringController } from './dashboard/monitoring.controller';
import { MetricSources } from './metrics/metric-sources';
import { MetricsService } from './metrics/metrics.service';
import { MonitoringCounters } from './metrics/monitoring-counters.service';
import { SamplesRepository } from './metrics/samples.repository';
import { MonitoringScheduler } from './monitoring.scheduler';
import { NotificationsRepository } from './notifications/notifications.repository';
import { NotificationsService } from './notifications/notifications.service';

/**
 * System monitoring and alerting: metric collection and history, Prometheus gauges and counters
 * (on the registry of common/metrics), alert rules, the alert lifecycle, silences and notifiers.
 * Exports MetricSources (for modules that contribute metrics) and the services a gateway or a
 * test drives. Global, so a module added through `startTestApp(env, {imports})` can register a
 * metric source without importing this one.
 */
@Global()
@Module({
  imports: [SecurityModule],
  controllers: [MonitoringController, AlertRulesController, AlertsController],
  providers: [
    SamplesRepository,
    MetricSources,
    MonitoringCounters,
    MetricsService,
    AlertRulesRepository,
    AlertRulesService,
    AlertsRepository,
    AlertsService,
    NotificationsRepository,
    NotificationsService,
    DashboardService,
    MonitoringScheduler,
  ],
  exports: [MetricSources, MetricsService, AlertsService, NotificationsService, MonitoringScheduler],
})
export class MonitoringModule {}
