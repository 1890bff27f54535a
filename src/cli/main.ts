/* eslint-disable no-console -- a command-line tool talks to its operator on the console */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../app.module';
import { BootstrapAdminService } from '../security/bootstrap/bootstrap-admin.service';
import { UsersService } from '../users/users/users.service';
import { buildOfflineOpenApiDocument } from '../app.setup';
import { buildConfig, loadConfig, parseEnv, readStoredSecrets, writeStoredSecrets } from '../common/config/app-config';
import { MasterKeyService } from '../security/keys/master-key.service';
import { loadEnvFile } from '../common/config/load-env-file';
import { dataSourceOptions } from '../common/database/data-source-options';
import { startDatabaseRuntime } from '../common/database/database-runtime';
import { appliedMigrationNames, runMigrations } from '../common/database/run-migrations';
import { ENTITIES } from '../entities';

const USAGE = `Bastion command line

  npm run cli -- migrate              apply pending migrations
  npm run cli -- migrate:revert       undo the last applied migration
  npm run cli -- migrate:status       list migrations and whether each is applied
  npm run cli -- openapi [file]       write the OpenAPI document (default: openapi.json)
  npm run cli -- create-admin --email EMAIL
                                      create a super_admin; the password comes from
                                      BASTION_ADMIN_PASSWORD, or is generated and shown once
  npm run cli -- rotate-master-key    rewrap every key's material under MASTER_KEY, in one
                                      transaction, while the servers run. The former key comes from
                                      MASTER_KEY_PREVIOUS. Embedded mode (no MASTER_KEY set): a new
                                      master key is generated into DATA_DIR/secrets.json (server stopped)

Settings come from the environment and .env, as for the server.`;

type Command = (args: string[]) => Promise<void>;

async function withDataSource<T>(fn: (ds: DataSource, mode: string) => Promise<T>): Promise<T> {
  const runtime = await startDatabaseRuntime(loadConfig(process.env));
  const ds = new DataSource(dataSourceOptions(runtime.config, runtime.config.database.url!, ENTITIES));
  try {
    await ds.initialize();
    return await fn(ds, runtime.config.mode);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await runtime.stop();
  }
}

const commands: Record<string, Command> = {
  migrate: () =>
    withDataSource(async (ds, mode) => {
      const ran = await runMigrations(ds, { lock: mode === 'cluster' });
      console.log(
        ran.length ? `applied: ${ran.map((m) => m.name).join(', ')}` : 'nothing to apply: the schema is up to date',
      );
    }),
  'migrate:revert': () =>
    withDataSource(async (ds) => {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    }),
  'migrate:status': () =>
    withDataSource(async (ds) => {
      const applied = await appliedMigrationNames(ds);
      for (const m of ds.migrations) console.log(`${applied.has(m.name!) ? '[x]' : '[ ]'} ${m.name}`);
    }),
  'create-admin': createAdmin,
  'rotate-master-key': rotateMasterKey,
  openapi: async ([file = 'openapi.json']) => {
    // Scanning needs no database and no secrets: throwaway ones keep DATA_DIR untouched.
    const config = buildConfig(parseEnv({ ...process.env, LOG_LEVEL: 'silent' }), {
      jwtSecret: randomBytes(32),
      masterKey: randomBytes(32),
      source: 'provided',
    });
    const document = await buildOfflineOpenApiDocument(config);
    writeFileSync(resolve(file), `${JSON.stringify(document, null, 2)}\n`);
    console.log(`wrote ${resolve(file)} (${Object.keys(document.paths).length} paths)`);
  },
};

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

async function createAdmin(args: string[]): Promise<void> {
  const email = flag(args, 'email');
  if (!email) throw new Error('create-admin needs --email EMAIL');
  const generated = !process.env.BASTION_ADMIN_PASSWORD;
  const password = process.env.BASTION_ADMIN_PASSWORD ?? randomBytes(18).toString('base64url');
  const base = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  const runtime = await startDatabaseRuntime(base);
  // On an empty database the start-up bootstrap creates exactly this administrator.
  const config = { ...runtime.config, bootstrap: { adminEmail: email, adminPassword: password } };
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    const bootstrap = app.get(BootstrapAdminService);
    if (bootstrap.createdOnStart?.email !== email.toLowerCase()) {
      if (await app.get(UsersService).findByEmail(email)) throw new Error(`${email} already exists; nothing changed`);
      await bootstrap.createAdmin(email, password);
    }
    console.log(`created super_admin ${email}`);
    if (generated) console.log(`password (shown once): ${password}`);
  } finally {
    await app.close();
    await runtime.stop();
  }
}

/**
 * Cluster mode (MASTER_KEY in the environment): MASTER_KEY is the new key and MASTER_KEY_PREVIOUS
 * lists the former one(s). Embedded mode (the key kept in DATA_DIR/secrets.json): a new key is
 * generated and written there first with the former one kept as previous, then the former one is
 * dropped once everything has been rewrapped; an interrupted run leaves both, and a new run finishes it.
 */
async function rotateMasterKey(): Promise<void> {
  const quiet = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  let base = loadConfig(quiet);
  const generated = base.secrets.source === 'data-dir' && !process.env.MASTER_KEY;
  if (generated) {
    const stored = readStoredSecrets(base.dataDir);
    writeStoredSecrets(base.dataDir, {
      ...stored,
      masterKey: randomBytes(32).toString('base64url'),
      previousMasterKeys: [stored.masterKey, ...(stored.previousMasterKeys ?? [])],
    });
    base = loadConfig(quiet);
  } else if (!base.secrets.previousMasterKeys?.length) {
    console.log('note: MASTER_KEY_PREVIOUS is empty; only material already wrapped by MASTER_KEY can be handled');
  }
  const runtime = await startDatabaseRuntime(base);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(runtime.config), {
    logger: ['error', 'warn'],
  });
  try {
    const result = await app.get(MasterKeyService).rotate();
    console.log(
      `master key ${result.masterKeyId} now wraps every key; rewrapped ${result.rewrapped} key version(s)` +
        (result.previous.length ? ` from ${result.previous.join(', ')}` : ''),
    );
  } finally {
    await app.close();
    await runtime.stop();
  }
  if (generated) {
    const stored = readStoredSecrets(base.dataDir);
    writeStoredSecrets(base.dataDir, { jwtSecret: stored.jwtSecret, masterKey: stored.masterKey });
    console.log(`the new master key is in ${base.dataDir}/secrets.json; the former one was removed`);
  } else {
    console.log('you may now remove MASTER_KEY_PREVIOUS from every instance');
  }
}

async function main(): Promise<void> {
  loadEnvFile();
  const [name, ...args] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.log(USAGE);
    process.exit(name && name !== 'help' ? 2 : 0);
  }
  await command(args);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? `error: ${err.message}` : err);
    process.exit(1);
  },
);
