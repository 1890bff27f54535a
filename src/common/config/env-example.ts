import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envSchema } from './config.schema';

/**
 * `.env.example` is written from the config schema (which settings exist) and the README's
 * settings table (what each means and its default), so neither can fall behind: a setting missing
 * from the README is an error here, and `test/unit/common/config/env-example.spec.ts` fails when the
 * committed file differs from what this writes. Regenerate with `npm run env:example`.
 */
export interface SettingDoc {
  default: string;
  meaning: string;
}

/** Every setting named in a row of the README's "Settings" table, with that row's default and meaning. */
export function settingsFromReadme(readme: string): Map<string, SettingDoc> {
  const start = readme.indexOf('\n## Settings');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const docs = new Map<string, SettingDoc>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `A` / `B` | default | meaning |  →  ['', names, default, meaning, '']
    if (cells.length < 5 || !cells[1].startsWith('`')) continue;
    const names = [...cells[1].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]);
    // `60` / `900` beside `A` / `B`: each name gets its own default.
    const defaults = names.length > 1 ? cells[2].split(' / ') : [cells[2]];
    names.forEach((name, i) => docs.set(name, { default: defaults[i] ?? cells[2], meaning: cells[3] }));
  }
  return docs;
}

export function settingNames(): string[] {
  return Object.keys(envSchema.shape);
}

/** The text of `.env.example`; throws naming every setting the README does not document. */
export function renderEnvExample(readme: string): string {
  const docs = settingsFromReadme(readme);
  const missing = settingNames().filter((name) => !docs.has(name));
  if (missing.length) throw new Error(`README "Settings" table lacks: ${missing.join(', ')}`);
  const lines = [
    '# Every setting Bastion reads, written by `npm run env:example` from the config schema and the',
    '# README\'s settings table (see README "Settings"). Copy to .env and uncomment what you change;',
    '# the environment wins over .env. All are optional outside production.',
    '',
  ];
  for (const name of settingNames()) {
    const doc = docs.get(name)!;
    const meaning = doc.meaning.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    // A literal default (`3000`) is written as the value; `unset`, `generated`, `empty` leave it blank.
    const literal = /^`([^`]*)`$/.exec(doc.default)?.[1];
    const byDefault = doc.default.replace(/`/g, '');
    lines.push(`# ${meaning} Default: ${byDefault}.`, `# ${name}=${literal ?? ''}`, '');
  }
  return lines.join('\n');
}

/** `npm run env:example`: rewrites `.env.example` beside package.json. */
if (require.main === module) {
  const root = join(__dirname, '..', '..', '..');
  writeFileSync(join(root, '.env.example'), renderEnvExample(readFileSync(join(root, 'README.md'), 'utf8')));
}
