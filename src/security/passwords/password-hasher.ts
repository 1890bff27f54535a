import { randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm, type Version } from '@node-rs/argon2';
import { parseArgon2Phc } from './argon2-phc';
import { normalizePassword } from './password-text';

/** Cost parameters of argon2id. */
export interface PasswordHasherOptions {
  /** Memory per hash, in KiB. */
  memoryCost: number;
  /** Number of passes over the memory. */
  timeCost: number;
  /** Number of lanes (threads). */
  parallelism: number;
}

/**
 * OWASP Password Storage Cheat Sheet's argon2id configuration (m=19 MiB, t=2, p=1): about 20 ms
 * per hash on Bastion's servers, slow enough for offline guessing, cheap enough for logins.
 */
export const DEFAULT_PASSWORD_HASHER_OPTIONS: Readonly<PasswordHasherOptions> = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

/**
 * `Algorithm` and `Version` are `const enum`s declared only in @node-rs/argon2's typings: at run
 * time the package exports them as empty objects, and @swc/jest (which compiles one file at a time)
 * cannot inline them. Their numeric values are used instead, still type-checked against the enums.
 */
const ARGON2ID: Algorithm = 2;
const VERSION_0X13: Version = 1;
const PHC_VERSION_0X13 = 19;

/**
 * Hashes and verifies passwords with argon2id (OWASP ASVS 5 §11.4, NIST SP 800-63B §3.1.1.2).
 * Passwords are NFC-normalised first, like the password policy measures them. One instance per
 * process is enough; it holds only its parameters and a lazily computed dummy hash.
 */
export class PasswordHasher {
  readonly options: Readonly<PasswordHasherOptions>;
  private dummyHash?: Promise<string>;

  constructor(options: Partial<PasswordHasherOptions> = {}) {
    const merged: PasswordHasherOptions = { ...DEFAULT_PASSWORD_HASHER_OPTIONS };
    for (const key of Object.keys(options) as (keyof PasswordHasherOptions)[]) {
      const value = options[key];
      if (value !== undefined) merged[key] = value;
    }
    assertInteger('parallelism', merged.parallelism, 1, 255);
    assertInteger('timeCost', merged.timeCost, 1, 2 ** 32 - 1);
    // argon2 needs at least 8 KiB per lane.
    assertInteger('memoryCost', merged.memoryCost, 8 * merged.parallelism, 2 ** 32 - 1);
    this.options = Object.freeze(merged);
  }

  /** An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh random salt. */
  hash(password: string): Promise<string> {
    return argon2Hash(normalizePassword(password), {
      algorithm: ARGON2ID,
      version: VERSION_0X13,
      memoryCost: this.options.memoryCost,
      timeCost: this.options.timeCost,
      parallelism: this.options.parallelism,
    });
  }

  /**
   * Whether the password matches the stored hash, using the parameters recorded in the hash, so
   * hashes made with older parameters still verify. A malformed or foreign hash yields false rather
   * than an error: one corrupt row must look like a wrong password, not a server error.
   */
  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2Verify(hash, normalizePassword(password));
    } catch {
      return false;
    }
  }

  /**
   * Whether a stored hash should be recomputed (after a successful login, while the plain password
   * is at hand) because it is not argon2id v19 with this hasher's memory, time and parallelism.
   * A hash that cannot be parsed also needs rehashing.
   */
  needsRehash(hash: string): boolean {
    const parsed = parseArgon2Phc(hash);
    if (!parsed) return true;
    return (
      parsed.algorithm !== 'argon2id' ||
      parsed.version !== PHC_VERSION_0X13 ||
      parsed.memoryCost !== this.options.memoryCost ||
      parsed.timeCost !== this.options.timeCost ||
      parsed.parallelism !== this.options.parallelism
    );
  }

  /**
   * Spends the time of one real verification and returns false. Call it when a login names an
   * unknown account, so that response time does not reveal which emails are registered (OWASP ASVS
   * 5 V6: no account enumeration through response times). The dummy hash uses this hasher's
   * parameters and is computed once, on first use or by {@link warmUp}.
   */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.getDummyHash(), password);
    return false;
  }

  /**
   * Computes the dummy hash ahead of time (for instance in a Nest `onModuleInit`), so the first
   * login with an unknown email does not take one hash longer than the others.
   */
  async warmUp(): Promise<void> {
    await this.getDummyHash();
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url')).catch((error: unknown) => {
      this.dummyHash = undefined; // let a later call try again
      throw error;
    });
    return this.dummyHash;
  }
}

function assertInteger(name: keyof PasswordHasherOptions, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`PasswordHasher ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
