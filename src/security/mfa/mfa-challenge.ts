import { createHash, randomBytes } from 'node:crypto';

/**
 * The second step of a login: after the right password, a user with MFA gets an opaque token
 * (32 random bytes) that is good for one successful code, within five minutes and five attempts.
 * Only its SHA-256 is stored.
 */
export const MFA_CHALLENGE_TTL_SECONDS = 300;
export const MFA_CHALLENGE_MAX_ATTEMPTS = 5;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function newMfaToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashMfaToken(token) };
}

/** Null for anything this server cannot have issued (no database lookup needed). */
export function parseMfaToken(token: string): string | null {
  return TOKEN.test(token) ? hashMfaToken(token) : null;
}

export function hashMfaToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export type ChallengeState = 'live' | 'used' | 'expired' | 'exhausted';

export function challengeState(
  challenge: { usedAt: Date | null; expiresAt: Date; attempts: number },
  now: Date,
): ChallengeState {
  if (challenge.usedAt !== null) return 'used';
  if (challenge.attempts >= MFA_CHALLENGE_MAX_ATTEMPTS) return 'exhausted';
  if (challenge.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'live';
}
