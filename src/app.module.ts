import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';

import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { ApiModule } from './api/api.module';
import type { AppConfig } from './common/config/app-config';
import { ConfigModule } from './common/config/config.module';
import { CommonModule } from './common/common.module';
import { DatabaseModule } from './common/database/database.module';
import { MetricsRegistryModule } from './common/metrics/metrics-registry';
import { MonitoringModule } from './monitoring/monitoring.module';
import { ENTITIES } from './entities';
import { ReportingModule } from './reporting/reporting.module';
import { SecurityModule } from './security/security.module';
import { SystemModule } from './system/system.module';
import { TradingModule } from './trading/trading.module';
import { UsersModule } from './users/users.module';

/** A module to add beside the application's own (tests use it for probe routes). */
export type ModuleImport = NonNullable<ModuleMetadata['imports']>[number];

@Module({})
export class AppModule {
  /** The whole application for one configuration (`database.url` already resolved). */
  static forRoot(config: AppConfig, extraImports: ModuleImport[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        MetricsRegistryModule,
        DatabaseModule.forRoot(ENTITIES),
        EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
        ScheduleModule.forRoot(),
        SystemModule,
        UsersModule,
        SecurityModule,
        TradingModule,
        MonitoringModule,
        ReportingModule,
        // Last of the application's modules: it reads every route the others declare.
        ApiModule,
        ...extraImports,
      ],
    };
  }
}
