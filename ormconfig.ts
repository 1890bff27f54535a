/**
 * The TypeORM CLI's data source, built from the same configuration as the app:
 *   npx typeorm-ts-node-commonjs -d ormconfig.ts migration:generate src/common/database/migrations/Name
 * (or `npm run migration:generate -- src/common/database/migrations/Name`). With DATABASE_URL it
 * uses PostgreSQL; without it, it opens the embedded database under DATA_DIR (stop the server first).
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/common/config/app-config';
import { loadEnvFile } from './src/common/config/load-env-file';
import { dataSourceOptions } from './src/common/database/data-source-options';
import { startDatabaseRuntime } from './src/common/database/database-runtime';
import { ENTITIES } from './src/entities';

async function createDataSource(): Promise<DataSource> {
  loadEnvFile();
  const runtime = await startDatabaseRuntime(loadConfig(process.env));
  const dataSource = new DataSource(dataSourceOptions(runtime.config, runtime.config.database.url!, ENTITIES));
  // The CLI destroys the data source when done; the embedded engine must stop with it.
  const destroy = dataSource.destroy.bind(dataSource);
  dataSource.destroy = async () => {
    await destroy();
    await runtime.stop();
  };
  return dataSource;
}

export default createDataSource();
