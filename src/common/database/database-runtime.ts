import { closeSync, openSync, readFileSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';
import { EmbeddedDatabase } from './embedded-database';

/** What the process must do around the Nest app so that it has a database to talk to. */
export interface DatabaseRuntime {
  /** The configuration with `database.url` filled in. */
  config: AppConfig;
  /** Closes what `startDatabaseRuntime` opened: call after the app (and its pool) has closed. */
  stop(): Promise<void>;
}

/**
 * Cluster mode: nothing to start, `DATABASE_URL` is used as given. Embedded mode: takes the data
 * directory's lock (one process per data directory; a lock left by a killed process is taken
 * over) and starts PGlite on it.
 */
export async function startDatabaseRuntime(config: AppConfig): Promise<DatabaseRuntime> {
  if (config.mode === 'cluster') return { config, stop: async () => undefined };
  const releaseLock = lockDataDir(config.dataDir);
  try {
    const engine = await EmbeddedDatabase.start(EmbeddedDatabase.dataPath(config.dataDir));
    return {
      config: { ...config, database: { ...config.database, url: engine.url } },
      stop: async () => {
        try {
          await engine.stop();
        } finally {
          releaseLock();
        }
      },
    };
  } catch (err) {
    releaseLock();
    throw err;
  }
}

function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'bastion.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8'));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `DATA_DIR ${dataDir} is in use by process ${holder}; the embedded database allows one process (set DATABASE_URL to share PostgreSQL)`,
          { cause: err },
        );
      }
      rmSync(file, { force: true }); // left behind by a process that no longer runs
    }
  }
  throw new Error(`could not lock DATA_DIR ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
