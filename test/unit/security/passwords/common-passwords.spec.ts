import { readFileSync } from 'node:fs';
import {
  COMMON_PASSWORDS_FILE,
  isCommonPassword,
  loadCommonPasswords,
  parseCommonPasswords,
} from '../../../../src/security/passwords/common-passwords';

describe('common password list', () => {
  const lines = readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split('\n');

  it('names its source and licence in a # header', () => {
    expect(lines[0]).toMatch(/^# .*@zxcvbn-ts\/language-common@\d+\.\d+\.\d+.*MIT/);
  });

  it('has at least 10,000 distinct lowercase entries', () => {
    const entries = lines.filter((line) => line !== '' && !line.startsWith('#'));
    expect(entries.length).toBeGreaterThanOrEqual(10_000);
    expect(new Set(entries).size).toBe(entries.length);
    expect(entries.every((entry) => entry === entry.toLowerCase())).toBe(true);
    expect(loadCommonPasswords().size).toBe(entries.length);
  });

  it('loads once and answers case-insensitively', () => {
    expect(loadCommonPasswords()).toBe(loadCommonPasswords());
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('PassWord')).toBe(true);
    expect(isCommonPassword('correct horse battery staple')).toBe(false);
  });

  it('skips comments and blank lines', () => {
    expect([...parseCommonPasswords('# header\r\nHunter2\r\n\r\n#hashtag\nletmein\n')]).toEqual(['hunter2', 'letmein']);
  });
});
