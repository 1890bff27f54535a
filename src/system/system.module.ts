import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './controllers/health.controller';
import { StatusController } from './controllers/status.controller';
import { StorageHealthIndicator } from './health/storage.health';
import { StatusService } from './services/status.service';

/** Health probes for orchestrators and the status of this instance. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, StatusController],
  providers: [StatusService, StorageHealthIndicator],
})
export class SystemModule {}
