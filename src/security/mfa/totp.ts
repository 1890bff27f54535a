import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createCryptoPlugin } from '@otplib/core';
import { generateSync, verifySync } from '@otplib/totp';
import { base32Decode, base32Encode } from './base32';

/**
 * TOTP as authenticator apps implement it (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps,
 * and one step of clock drift either way. The computation is otplib 13's (`@otplib/totp`, the
 * engine the `otplib` package re-exports) with Node's own crypto as its plugin: the `otplib`
 * entry point also loads its default noble/scure plugins, which are ES modules only.
 */
export const TOTP_ALGORITHM = 'sha1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DRIFT_STEPS = 1;
/** 160 bits, the HMAC-SHA-1 block-size recommendation of RFC 4226. */
export const TOTP_SECRET_BYTES = 20;

const CODE = /^[0-9]{6}$/;

const nodeCrypto = createCryptoPlugin({
  name: 'node',
  algorithms: ['sha1'],
  hmac: (algorithm, key, data) => createHmac(algorithm, key).update(data).digest(),
  randomBytes: (length) => randomBytes(length),
  constantTimeEqual: (a, b) => {
    const x = typeof a === 'string' ? Buffer.from(a) : Buffer.from(a);
    const y = typeof b === 'string' ? Buffer.from(b) : Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  },
});

const common = {
  algorithm: TOTP_ALGORITHM,
  digits: TOTP_DIGITS,
  period: TOTP_PERIOD_SECONDS,
  crypto: nodeCrypto,
} as const;

/** A fresh secret, base32 as apps and QR codes carry it. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(TOTP_SECRET_BYTES));
}

/** The time step (RFC 6238 `T`) of an instant. */
export function totpStep(at: Date | number = Date.now()): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / 1000 / TOTP_PERIOD_SECONDS);
}

/** Spaces are allowed in what a person types (`123 456`). */
export function normalizeTotpCode(input: string): string | null {
  const code = input.replace(/\s+/g, '');
  return CODE.test(code) ? code : null;
}

export type TotpCheck =
  { valid: true; step: number; drift: number } | { valid: false; reason: 'malformed' | 'mismatch' | 'replayed' };

/**
 * Checks a code against the steps now-1, now and now+1, refusing any step at or before
 * `afterStep` (the last step this secret accepted): each code works once.
 */
export function verifyTotp(
  secretBase32: string,
  input: string,
  options: { afterStep?: number | null; now?: Date } = {},
): TotpCheck {
  const secret = base32Decode(secretBase32);
  const token = normalizeTotpCode(input);
  if (!secret || !token) return { valid: false, reason: 'malformed' };
  const epoch = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const base = {
    ...common,
    secret: new Uint8Array(secret),
    token,
    epoch,
    epochTolerance: TOTP_DRIFT_STEPS * TOTP_PERIOD_SECONDS,
  };
  const afterStep = options.afterStep ?? undefined;
  const newest = totpStep(epoch * 1000) + TOTP_DRIFT_STEPS;
  // otplib refuses an afterTimeStep beyond the window; every step of the window is then too old.
  if (afterStep === undefined || afterStep < newest) {
    const result = verifySync({ ...base, afterTimeStep: afterStep });
    if (result.valid) return { valid: true, step: result.timeStep, drift: result.delta };
  }
  if (afterStep === undefined) return { valid: false, reason: 'mismatch' };
  return verifySync(base).valid ? { valid: false, reason: 'replayed' } : { valid: false, reason: 'mismatch' };
}

/** The code of a step: for tests and tooling (the server never needs to show one). */
export function totpCode(secretBase32: string, at: Date | number = Date.now()): string {
  const secret = base32Decode(secretBase32);
  if (!secret) throw new Error('not a base32 secret');
  const ms = typeof at === 'number' ? at : at.getTime();
  return generateSync({ ...common, secret: new Uint8Array(secret), epoch: Math.floor(ms / 1000) });
}

/**
 * The `otpauth://` URI of Google's Key Uri Format: `otpauth://totp/Issuer:account?secret=…&issuer=…`.
 * Algorithm, digits and period are spelled out although they are the defaults.
 */
export function totpUri(secretBase32: string, account: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    `secret=${secretBase32}`,
    `issuer=${encodeURIComponent(issuer)}`,
    `algorithm=${TOTP_ALGORITHM.toUpperCase()}`,
    `digits=${TOTP_DIGITS}`,
    `period=${TOTP_PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}
