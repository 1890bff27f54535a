import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** Bastion's version, from package.json (found from src/ and from the build in dist/src/). */
export function readPackageVersion(): string {
  if (cached) return cached;
  for (const dir of [join(__dirname, '..', '..'), join(__dirname, '..', '..', '..'), process.cwd()]) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'bastion' && pkg.version) return (cached = pkg.version);
    } catch {
      // try the next candidate
    }
  }
  return (cached = '0.0.0');
}
