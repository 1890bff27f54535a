import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { AfterCommitSubscriber } from './after-commit';
import { socketConnection } from './embedded-database';
import { migrations } from './migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/**
 * The one place TypeORM is configured, shared by the app, the migration CLI and ormconfig.ts.
 * Migrations are never run by TypeORM itself (`migrationsRun: false`): see `runMigrations`.
 */
export function dataSourceOptions(config: AppConfig, url: string, entities: Function[] = []): DataSourceOptions {
  const embedded = config.mode === 'embedded';
  // The embedded engine listens on a Unix socket; TypeORM's URL parser knows only host:port.
  const socket = socketConnection(url);
  return {
    type: 'postgres',
    ...(socket ?? { url }),
    entities,
    migrations,
    // Releases afterCommit() work once a transaction commits (events, cache invalidations).
    subscribers: [AfterCommitSubscriber],
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
      ? // One connection, never closed for idleness: PGlite serves exactly one (see embedded-database.ts).
        { max: 1, idleTimeoutMillis: 0 }
      : {
          max: config.database.poolSize,
          statement_timeout: config.database.statementTimeoutMs,
          idleTimeoutMillis: 30_000,
          application_name: 'bastion',
        },
  };
}
