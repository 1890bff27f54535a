import { Module } from '@nestjs/common';
import { HealthController } from './controllers/health.controller';
import { StatusController } from './controllers/status.controller';
import { DependencyMetrics } from './services/dependency-metrics.service';
import { ReadinessService } from './services/readiness.service';
import { StatusService } from './services/status.service';

/** Health probes for orchestrators and the status of this instance. */
@Module({
  controllers: [HealthController, StatusController],
  providers: [StatusService, ReadinessService, DependencyMetrics],
})
export class SystemModule {}
