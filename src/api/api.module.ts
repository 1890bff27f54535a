import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SecurityModule } from '../security/security.module';
import { KeyUsageMetrics } from './metrics/key-usage.metrics';
import { MetricsAccessGuard } from './metrics/metrics-access.guard';
import { MetricsController } from './metrics/metrics.controller';
import { PrometheusService } from './metrics/prometheus.service';
import { RouteRegistry } from './routes/route-registry';
import { ApiStatsController } from './stats/api-stats.controller';
import { ApiStatsService } from './stats/api-stats.service';
import { HttpMeter } from './stats/http-meter.service';

/**
 * The API as a whole: the registry of every route and its access requirement, per-route usage
 * statistics (`GET /api/v1/admin/api-stats`) and the Prometheus scrape (`GET /metrics`).
 * Imported last by AppModule; it reads every other module's controllers through Nest's metadata
 * and needs nothing from them.
 */
@Module({
  imports: [DiscoveryModule, SecurityModule],
  controllers: [ApiStatsController, MetricsController],
  providers: [RouteRegistry, ApiStatsService, PrometheusService, HttpMeter, MetricsAccessGuard, KeyUsageMetrics],
  exports: [RouteRegistry, PrometheusService],
})
export class ApiModule {}
