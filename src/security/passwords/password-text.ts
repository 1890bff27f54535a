/**
 * How Bastion reads a password before measuring, comparing or hashing it.
 *
 * The same password typed on two systems can reach us as different code-point sequences ("é" as one
 * precomposed code point or as "e" plus a combining accent). NIST SP 800-63B asks verifiers to
 * normalise Unicode passwords before hashing and to count length in characters, not bytes, so every
 * part of the password feature (policy, history check, hashing) goes through these two functions.
 */

/**
 * Canonical (NFC) form of a password. Used by the policy and by {@link PasswordHasher}, so a password
 * accepted by the policy is hashed and later verified in exactly the form it was measured in.
 * Nothing is trimmed or truncated: spaces are significant (NIST SP 800-63B, OWASP ASVS 6.2).
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/**
 * Length of a password in Unicode code points after NFC normalisation, so an emoji or an accented
 * letter counts as one character, as a person would count it, rather than as two UTF-16 units.
 */
export function passwordLength(password: string): number {
  let count = 0;
  // Iterating a string yields code points, not UTF-16 units.
  for (const _codePoint of normalizePassword(password)) count++;
  return count;
}
