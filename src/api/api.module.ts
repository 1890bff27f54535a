import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SecurityModule } from '../security/security.module';
import { ReportingModule } from '../reporting/reporting.module';
import { KeyUsageMetrics } from './metrics/key-usage.metrics';
import { TradingModule } from '../trading/trading.module';
import { AsyncApiController } from './live/asyncapi.controller';
import { LiveAuthService } from './live/live-auth.service';
import { LiveHub } from './live/live-hub';
import { LiveMeter } from './live/live-meter.service';
import { LivePublisher } from './live/live-publisher.service';
import { LiveRevalidator } from './live/live-revalidator.service';
import { LiveSubscriptionsService } from './live/live-subscriptions.service';
import { LiveGateway } from './live/live.gateway';
import { MetricsAccessGuard } from './metrics/metrics-access.guard';
import { MetricsController } from './metrics/metrics.controller';
import { PrometheusService } from './metrics/prometheus.service';
import { RouteRegistry } from './routes/route-registry';
import { ApiStatsController } from './stats/api-stats.controller';
import { ApiStatsService } from './stats/api-stats.service';
import { HttpMeter } from './stats/http-meter.service';

/**
 * The API as a whole: the registry of every route and its access requirement, per-route usage
 * statistics (`GET /api/v1/admin/api-stats`), the Prometheus scrape (`GET /metrics`), and the
 * live gateway (Socket.IO namespace `/live`, its AsyncAPI document at `/docs/asyncapi.json`).
 * Imported last by AppModule; it reads every other module's controllers through Nest's metadata,
 * and the gateway listens to the other modules' events: none of them imports this module.
 */
@Module({
  imports: [DiscoveryModule, SecurityModule, TradingModule, ReportingModule],
  controllers: [ApiStatsController, MetricsController, AsyncApiController],
  providers: [
    RouteRegistry,
    ApiStatsService,
    PrometheusService,
    HttpMeter,
    MetricsAccessGuard,
    KeyUsageMetrics,
    LiveMeter,
    LiveHub,
    LiveAuthService,
    LiveSubscriptionsService,
    LiveRevalidator,
    LivePublisher,
    LiveGateway,
  ],
  exports: [RouteRegistry, PrometheusService],
})
export class ApiModule {}
