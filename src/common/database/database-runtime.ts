import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { AppConfig } from '../config/app-config';
import { dependencyFailureOf } from '../errors/dependency-failure';
import { dataDirFailure, StartupError } from '../startup/startup-error';
import { lockDataDir } from './data-dir-lock';
import { EmbeddedDatabase } from './embedded-database';

/** What the process must do around the Nest app so that it has a database to talk to. */
export interface DatabaseRuntime {
  /** The configuration with `database.url` filled in. */
  config: AppConfig;
  /** Closes what `startDatabaseRuntime` opened: call after the app (and its pool) has closed. */
  stop(): Promise<void>;
}

/** Free space the embedded engine needs to start (its first initdb writes about 40 MB). */
const EMBEDDED_MIN_FREE_BYTES = 64 * 1024 * 1024;

/**
 * Cluster mode: waits until PostgreSQL at `DATABASE_URL` answers (with backoff, for up to
 * DATABASE_CONNECT_TIMEOUT_SECONDS, one log line per attempt); no data directory is needed.
 * Embedded mode: checks that the data directory can be written, takes its lock (one process per
 * data directory; a lock left by a dead process is taken over) and starts PGlite on it.
 */
export async function startDatabaseRuntime(
  config: AppConfig,
  logger = new Logger('Database'),
): Promise<DatabaseRuntime> {
  if (config.mode === 'cluster') {
    await waitForDatabase(config, logger);
    return { config, stop: async () => undefined };
  }
  prepareDataDir(config.dataDir);
  const releaseLock = lockDataDir(config.dataDir);
  try {
    const engine = await EmbeddedDatabase.start(EmbeddedDatabase.dataPath(config.dataDir)).catch((err: unknown) => {
      throw dataDirFailure(err, config.dataDir, 'open the embedded database') ?? err;
    });
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

/** Creates DATA_DIR (0700) and proves it can be written, so that failures name it clearly. */
export function prepareDataDir(dataDir: string, minFreeBytes = EMBEDDED_MIN_FREE_BYTES): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
  } catch (err) {
    throw dataDirFailure(err, dataDir, 'create or secure the directory') ?? err;
  }
  const probe = join(dataDir, `.write-test.${process.pid}`);
  try {
    const fd = openSync(probe, 'w', 0o600);
    try {
      writeSync(fd, Buffer.alloc(64 * 1024));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw dataDirFailure(err, dataDir, 'write') ?? err;
  } finally {
    rmSync(probe, { force: true });
  }
  const stats = statfsSync(dataDir);
  const free = Number(stats.bavail) * Number(stats.bsize);
  if (free < minFreeBytes) {
    throw new StartupError(
      `the data directory ${dataDir} has ${Math.floor(free / 1024 / 1024)} MB free, the embedded database needs at least ${minFreeBytes / 1024 / 1024} MB`,
      'DATA_DIR',
      'free space on that filesystem or point DATA_DIR at a larger one',
    );
  }
}

/** `host:port/database` of a PostgreSQL URL, without user or password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[] };
  if (Array.isArray(e.errors) && e.errors.length > 0) return reasonOf(e.errors[0]);
  if (typeof e.code === 'string') return e.code;
  return typeof e.message === 'string' ? e.message.split('\n')[0] : String(err);
}

/** Retries connecting with exponential backoff (0.5 s doubling, at most 5 s) until the timeout. */
async function waitForDatabase(config: AppConfig, logger: Logger): Promise<void> {
  const url = config.database.url!;
  const target = describeDatabaseUrl(url);
  const deadline = Date.now() + config.database.connectTimeoutSeconds * 1000;
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    const client = new Client({
      connectionString: url,
      ssl: config.database.ssl ? { rejectUnauthorized: true } : undefined,
      connectionTimeoutMillis: Math.max(1000, Math.min(5000, deadline - Date.now())),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      if (attempt > 1) logger.log(`PostgreSQL at ${target} answered on attempt ${attempt}`);
      return;
    } catch (err) {
      const reason = reasonOf(err);
      // Wrong password, unknown database, bad TLS: waiting will not help.
      if (!dependencyFailureOf(err) && !/timeout/i.test(reason)) {
        throw new StartupError(
          `PostgreSQL at ${target} refused the connection: ${reason}`,
          'DATABASE_URL',
          'check the user, password, database name and DATABASE_SSL',
          { cause: err },
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StartupError(
          `cannot reach PostgreSQL at ${target} after ${attempt} attempt(s) in ${config.database.connectTimeoutSeconds} s (${reason})`,
          'DATABASE_URL',
          'check that PostgreSQL runs and accepts connections from this host, or raise DATABASE_CONNECT_TIMEOUT_SECONDS',
          { cause: err },
        );
      }
      const wait = Math.min(delay, left);
      logger.warn(
        `PostgreSQL at ${target} not reachable (attempt ${attempt}: ${reason}); retrying in ${(wait / 1000).toFixed(1)} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, 5000);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
