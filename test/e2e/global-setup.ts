import { existsSync, renameSync, rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { embeddedTemplateDir } from './support/template';

/**
 * Without DATABASE_URL every spec file runs on its own embedded database. Creating one from
 * nothing (initdb) takes several seconds, so it is done once here and each spec copies the result.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const dir = embeddedTemplateDir();
  if (existsSync(dir)) return;
  const building = `${dir}.${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const db = await PGlite.create({ dataDir: building });
  await db.query('SELECT 1');
  await db.close();
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another run made it first
  }
}
