import { Module } from '@nestjs/common';
import { HealthController } from './health/health.controller';
import { StatusController } from './status/status.controller';
import { DatabaseRepository } from './health/database.repository';
import { DependencyMetrics } from './health/dependency-metrics.service';
import { ReadinessService } from './health/readiness.service';
import { StatusService } from './status/status.service';

/** Health probes for orchestrators and the status of this instance. */
@Module({
  controllers: [HealthController, StatusController],
  providers: [StatusService, ReadinessService, DatabaseRepository, DependencyMetrics],
})
export class SystemModule {}
