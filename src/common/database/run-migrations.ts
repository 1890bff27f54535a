import { type DataSource, type Migration, MigrationExecutor } from 'typeorm';

/** Arbitrary but fixed: the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK_ID = 7_238_163_001;

/**
 * Runs pending migrations, each in its own transaction. In cluster mode several instances may
 * start at once, so the run holds a PostgreSQL advisory lock on the connection that executes it.
 */
export async function runMigrations(dataSource: DataSource, opts: { lock: boolean }): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    if (opts.lock) await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      return await executor.executePendingMigrations();
    } finally {
      if (opts.lock) await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}

/** Names of the migrations already applied; none when the migrations table does not exist yet. */
export async function appliedMigrationNames(dataSource: DataSource): Promise<Set<string>> {
  const rows = await dataSource.query<{ name: string }[]>('SELECT name FROM migrations').catch(() => []);
  return new Set(rows.map((r) => r.name));
}
