import { type DynamicModule, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG, InjectConfig } from '../config/config.module';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './run-migrations';

@Injectable()
export class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger(MigrationRunner.name);

  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrationsRun) return;
    const ran = await runMigrations(this.dataSource, { lock: this.config.mode === 'cluster' });
    if (ran.length > 0) this.logger.log(`applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`);
  }
}

@Module({})
export class DatabaseModule {
  /** `entities`: the application's entity list (src/entities.ts), passed in so common/ knows no feature. */
  static forRoot(entities: Function[]): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => {
            if (!config.database.url) throw new Error('database.url is not set: start the database runtime first');
            return { ...dataSourceOptions(config, config.database.url, entities), retryAttempts: 1, retryDelay: 1000 };
          },
        }),
      ],
      providers: [MigrationRunner],
    };
  }
}
