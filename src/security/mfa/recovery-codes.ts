import { createHash, randomBytes } from 'node:crypto';

/**
 * Recovery codes: single-use second factors for when the authenticator is lost. Twelve symbols
 * from a 32-symbol alphabet without the look-alikes 0/O and 1/I (60 bits each), shown once as
 * `XXXX-XXXX-XXXX` and stored as SHA-256 of the user id and the code (the user id keeps one hash
 * from being tried against every account at once).
 */
export const RECOVERY_CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
export const RECOVERY_CODE_COUNT = 10;
export const RECOVERY_CODE_LENGTH = 12;
const GROUP = 4;

const VALID = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${RECOVERY_CODE_LENGTH}}$`);

/** `count` distinct codes, formatted for display. */
export function generateRecoveryCodes(
  count = RECOVERY_CODE_COUNT,
  random: (size: number) => Buffer = randomBytes,
): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    // 32 symbols: the low 5 bits of a byte pick one without bias.
    const symbols = [...random(RECOVERY_CODE_LENGTH)].map((b) => RECOVERY_CODE_ALPHABET[b & 31]).join('');
    codes.add(formatRecoveryCode(symbols));
  }
  return [...codes];
}

export function formatRecoveryCode(normalized: string): string {
  return normalized.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join('-');
}

/** What the user typed, without case, spaces or hyphens; null if it cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input.replace(/[\s-]+/g, '').toUpperCase();
  return VALID.test(code) ? code : null;
}

export function hashRecoveryCode(userId: string, normalized: string): string {
  return createHash('sha256').update(`${userId}:${normalized}`).digest('hex');
}
