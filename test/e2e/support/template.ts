import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where global-setup leaves an initialised PGlite data directory for specs to copy. */
export function embeddedTemplateDir(): string {
  const pkg = join(__dirname, '..', '..', '..', 'node_modules', '@electric-sql', 'pglite', 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return join(tmpdir(), `bastion-pglite-template-${version}`);
}
