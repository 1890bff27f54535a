/**
 * Reading the parameters out of an argon2 hash in PHC string format
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so Bastion can tell whether a stored hash was
 * made with the current parameters and should be recomputed at the user's next successful login.
 */

/** The argon2 variants a PHC string can name. */
export type Argon2Variant = 'argon2d' | 'argon2i' | 'argon2id';

/** The parameters encoded in an argon2 PHC string. */
export interface Argon2PhcParameters {
  algorithm: Argon2Variant;
  /** Argon2 version: 19 (0x13) today; 16 (0x10) when the string has no `v=` segment. */
  version: number;
  /** Memory cost in KiB (`m=`). */
  memoryCost: number;
  /** Number of passes (`t=`). */
  timeCost: number;
  /** Degree of parallelism (`p=`). */
  parallelism: number;
}

/** The version that the original argon2 PHC strings imply by leaving out `v=`. */
const IMPLICIT_VERSION = 16;

const PHC_PATTERN = new RegExp(
  [
    '^\\$(argon2id|argon2i|argon2d)', // algorithm
    '(?:\\$v=(\\d{1,10}))?', // version, absent in version 16 strings
    '\\$m=(\\d{1,10}),t=(\\d{1,10}),p=(\\d{1,10})(?:,[^$]*)?', // costs, then optional keyid/data
    '\\$[A-Za-z0-9+/]+\\$[A-Za-z0-9+/]+$', // salt and hash, unpadded base64
  ].join(''),
);

/**
 * The parameters of an argon2 PHC string, or undefined when the string is not one (another scheme,
 * truncated, empty). Never throws: a stored hash is data, and bad data must not break a login.
 */
export function parseArgon2Phc(encoded: string): Argon2PhcParameters | undefined {
  if (typeof encoded !== 'string') return undefined;
  const match = PHC_PATTERN.exec(encoded);
  if (!match) return undefined;
  const [, algorithm, version, memoryCost, timeCost, parallelism] = match;
  return {
    algorithm: algorithm as Argon2Variant,
    version: version === undefined ? IMPLICIT_VERSION : Number(version),
    memoryCost: Number(memoryCost),
    timeCost: Number(timeCost),
    parallelism: Number(parallelism),
  };
}
