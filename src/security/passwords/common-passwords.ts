import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizePassword } from './password-text';

/**
 * Where the list of common passwords lives. It sits beside this module both in src/ (tests) and in
 * the compiled build, where nest-cli.json's `assets` copies it to dist/src/security/passwords/.
 */
export const COMMON_PASSWORDS_FILE = join(__dirname, 'common-passwords.txt');

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * Parses the list format: one password per line, compared lowercase; blank lines and lines starting
 * with `#` (the source and licence header) are skipped.
 */
export function parseCommonPasswords(text: string): Set<string> {
  const entries = new Set<string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '' || line.startsWith('#')) continue;
    entries.add(normalizePassword(line).toLowerCase());
  }
  return entries;
}

/**
 * The set of common passwords, read from disk on first use and kept for the life of the process:
 * about 49,000 entries, so it is not worth reading for processes that never check a password.
 */
export function loadCommonPasswords(): ReadonlySet<string> {
  commonPasswords ??= parseCommonPasswords(readFileSync(COMMON_PASSWORDS_FILE, 'utf8'));
  return commonPasswords;
}

/**
 * Whether a password is on the list of commonly used or breached passwords, ignoring case, as NIST
 * SP 800-63B and OWASP ASVS 6.2 require at registration and password change.
 */
export function isCommonPassword(password: string): boolean {
  return loadCommonPasswords().has(normalizePassword(password).toLowerCase());
}
