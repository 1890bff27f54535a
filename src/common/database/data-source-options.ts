import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { migrations } from './migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/**
 * The one place TypeORM is configured, shared by the app, the migration CLI and ormconfig.ts.
 * Migrations are never run by TypeORM itself (`migrationsRun: false`): see `runMigrations`.
 */
export function dataSourceOptions(config: AppConfig, url: string, entities: Function[] = []): DataSourceOptions {
  const embedded = config.mode === 'embedded';
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    // The embedded engine has every extension it needs built in and serves one connection only.
    installExtensions: !embedded,
    uuidExtension: 'pgcrypto',
    ssl: config.database.ssl ? { rejectUnauthorized: true } : false,
    logging: false,
    extra: embedded
      ? { max: 1 }
      : {
          max: config.database.poolSize,
          statement_timeout: config.database.statementTimeoutMs,
          idleTimeoutMillis: 30_000,
          application_name: 'bastion',
        },
  };
}
