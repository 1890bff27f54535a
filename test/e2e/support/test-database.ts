import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabase } from '../../../src/common/database/embedded-database';
import { embeddedTemplateDir } from './template';

export interface TestDatabase {
  url: string;
  mode: 'embedded' | 'cluster';
  drop(): Promise<void>;
}

/**
 * A database of the spec's own: a fresh PostgreSQL database on the server named by DATABASE_URL,
 * or else an embedded PGlite copied from the template made by global-setup. Specs run in
 * parallel without seeing each other's data.
 */
export async function createTestDatabase(serverUrl = process.env.DATABASE_URL): Promise<TestDatabase> {
  if (serverUrl) {
    const name = `bastion_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      mode: 'cluster',
      drop: () =>
        withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bastion-e2e-'));
  const template = embeddedTemplateDir();
  if (existsSync(template)) cpSync(template, join(dir, 'pgdata'), { recursive: true });
  const engine = await EmbeddedDatabase.start(join(dir, 'pgdata'));
  return {
    url: engine.url,
    mode: 'embedded',
    drop: async () => {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
