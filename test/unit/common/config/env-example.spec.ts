import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample, settingNames, settingsFromReadme } from '../../../../src/common/config/env-example';

const root = join(__dirname, '..', '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('.env.example', () => {
  it('documents every setting of the config schema in the README table', () => {
    const documented = settingsFromReadme(readme);
    expect(settingNames().filter((name) => !documented.has(name))).toEqual([]);
  });

  it('is exactly what `npm run env:example` writes', () => {
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(renderEnvExample(readme));
  });

  it('refuses a README that lacks a setting', () => {
    expect(() => renderEnvExample(readme.replace(/\| `PORT` \|/, '| PORTX |'))).toThrow(/lacks: PORT/);
  });
});
