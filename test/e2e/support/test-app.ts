import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../../src/app.setup';
import type { ModuleImport } from '../../../src/app.module';
import { type AppConfig, buildConfig, parseEnv } from '../../../src/common/config/app-config';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** supertest bound to the running server. */
  http: TestAgent;
  /** e.g. http://127.0.0.1:41234, for Socket.IO clients and raw HTTP. */
  baseUrl: string;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * Boots the whole application through app.setup.ts, as main.ts does, on a database of its own
 * and a free port. `env` overrides settings exactly as environment variables would.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: {
    imports?: ModuleImport[];
    /**
     * Another instance's database (cluster mode only): two apps on one PostgreSQL behave as two
     * instances of one system. The database is dropped by the app that created it, not this one.
     */
    shareDatabaseOf?: TestApp;
    /** A PostgreSQL server of the spec's own (e.g. one it stops and starts) instead of DATABASE_URL. */
    databaseServerUrl?: string;
  } = {},
): Promise<TestApp> {
  const shared = options.shareDatabaseOf?.database;
  if (shared && shared.mode !== 'cluster') throw new Error('only a cluster-mode database can be shared');
  const database: TestDatabase = shared
    ? { ...shared, drop: async () => undefined }
    : await createTestDatabase(options.databaseServerUrl);
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-data-'));
  const parsed = parseEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    // Every spec talks from 127.0.0.1: generous limits unless a spec is about limits.
    RATE_LIMIT_IP_PER_MINUTE: '1000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    // Specs running at once (and CI runs) share one Redis: counters of their own unless told.
    REDIS_KEY_PREFIX: `bastion-test-${randomBytes(6).toString('hex')}:`,
    // Monitoring specs drive ticks themselves; no spec waits for the schedule.
    MONITORING_INTERVAL_SECONDS: '3600',
    // The heap check measures this process: a Jest worker that has hosted many apps, not a server.
    HEALTH_HEAP_LIMIT_MB: '16384',
    REDIS_URL: process.env.REDIS_URL,
    ...env,
  });
  // Fresh secrets per app, unless given. Instances of one system (shareDatabaseOf) share the first
  // one's, as a deployment's instances share JWT_SECRET and MASTER_KEY.
  const sibling = options.shareDatabaseOf?.config.secrets;
  const config: AppConfig = buildConfig(parsed, {
    jwtSecret: parsed.JWT_SECRET
      ? Buffer.from(parsed.JWT_SECRET, 'base64url')
      : (sibling?.jwtSecret ?? randomBytes(32)),
    // A spec may choose its master keys (key management's master-key rotation); random otherwise.
    masterKey: parsed.MASTER_KEY
      ? Buffer.from(parsed.MASTER_KEY, 'base64url')
      : (sibling?.masterKey ?? randomBytes(32)),
    previousMasterKeys: parsed.MASTER_KEY_PREVIOUS.map((v) => Buffer.from(v, 'base64url')),
    source: 'provided',
  });
  config.database.url = database.url;
  config.mode = database.mode;

  let app: NestExpressApplication | undefined;
  try {
    app = await createApp(config, { imports: options.imports });
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await app?.close();
    await database.drop();
    throw err;
  }
  const started = app;
  const baseUrl = (await started.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app: started,
    config,
    http: request(started.getHttpServer()),
    baseUrl,
    database,
    close: async () => {
      await started.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
