import { isCommonPassword } from './common-passwords';
import { passwordScore } from './password-strength';
import { normalizePassword, passwordLength } from './password-text';

/**
 * What Bastion asks of a new password. The defaults follow NIST SP 800-63B and OWASP ASVS 5 §6.2:
 * length and a deny list of common and personal words matter; composition rules ("one upper case,
 * one digit...") do not make passwords stronger and are off unless a customer's own policy demands them.
 */
export interface PasswordPolicyOptions {
  /** Fewest characters (code points) allowed. ASVS asks for at least 8 and recommends 15. */
  minLength: number;
  /** Most characters allowed: high enough for passphrases (ASVS: at least 64), bounded so hashing stays cheap. */
  maxLength: number;
  /** When true, require a lowercase letter, an uppercase letter, a digit and a symbol. */
  requireComposition: boolean;
  /** Reject passwords found on the list of commonly used or breached passwords. */
  rejectCommon: boolean;
  /** Reject passwords that contain the user's email local part, first name or last name. */
  rejectPersonal: boolean;
  /** How many previous passwords may not be reused; 0 turns the history check off. */
  historySize: number;
  /**
   * Lowest zxcvbn score (0–4) accepted; 0 turns the check off. Catches derivatives of common
   * words the exact list misses: digits or symbols appended, leetspeak, repeats.
   */
  minScore: number;
}

/** The policy used when none is configured. */
export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicyOptions> = Object.freeze({
  minLength: 12,
  maxLength: 128,
  requireComposition: false,
  rejectCommon: true,
  rejectPersonal: true,
  historySize: 5,
  minScore: 3,
});

/** Stable identifiers of the policy rules, for clients that show their own text. */
export type PasswordRule = 'min_length' | 'max_length' | 'composition' | 'common' | 'guessable' | 'personal' | 'reused';

/** One rule that a password breaks, with a message that can be shown to the user as is. */
export interface PasswordViolation {
  rule: PasswordRule;
  message: string;
}

/** What is known about the user, so that passwords built from it can be refused. */
export interface PasswordContext {
  email?: string;
  firstName?: string;
  lastName?: string;
}

/** Personal words shorter than this are too likely to occur by chance to be refused. */
const MIN_PERSONAL_TERM_LENGTH = 3;

/**
 * The complete policy: the defaults overridden by the given options (an `undefined` option keeps its
 * default). Throws a RangeError for a policy that could never be met, so a bad configuration fails
 * at start-up rather than at a user's first password change.
 */
export function resolvePasswordPolicy(options: Partial<PasswordPolicyOptions> = {}): PasswordPolicyOptions {
  const policy: PasswordPolicyOptions = { ...DEFAULT_PASSWORD_POLICY };
  for (const key of Object.keys(options) as (keyof PasswordPolicyOptions)[]) {
    const value = options[key];
    if (value !== undefined) Object.assign(policy, { [key]: value });
  }
  const { minLength, maxLength, historySize } = policy;
  if (!Number.isInteger(minLength) || minLength < 1) {
    throw new RangeError(`Password policy minLength must be a positive integer, got ${minLength}`);
  }
  if (!Number.isInteger(maxLength) || maxLength < minLength) {
    throw new RangeError(`Password policy maxLength must be an integer ≥ minLength (${minLength}), got ${maxLength}`);
  }
  if (!Number.isInteger(policy.minScore) || policy.minScore < 0 || policy.minScore > 4) {
    throw new RangeError(`Password policy minScore must be an integer from 0 to 4, got ${policy.minScore}`);
  }
  if (!Number.isInteger(historySize) || historySize < 0) {
    throw new RangeError(`Password policy historySize must be a non-negative integer, got ${historySize}`);
  }
  return policy;
}

/**
 * Checks a new password against the policy and returns every rule it breaks, in a fixed order
 * (min_length, max_length, composition, common, personal), so the user can fix them all at once.
 * An empty array means the password is acceptable, apart from reuse, which needs the stored hashes
 * and is checked with {@link findReusedPassword}.
 */
export function checkPassword(
  password: string,
  context: PasswordContext = {},
  options: Partial<PasswordPolicyOptions> = {},
): PasswordViolation[] {
  const policy = resolvePasswordPolicy(options);
  const normalized = normalizePassword(password);
  const length = passwordLength(normalized);
  const violations: PasswordViolation[] = [];

  if (length < policy.minLength) {
    violations.push({ rule: 'min_length', message: `Password must be at least ${policy.minLength} characters.` });
  }
  if (length > policy.maxLength) {
    violations.push({ rule: 'max_length', message: `Password must be at most ${policy.maxLength} characters.` });
  }
  if (policy.requireComposition) {
    const missing = missingCharacterClasses(normalized);
    if (missing.length > 0) {
      violations.push({ rule: 'composition', message: `Password must contain at least ${joinClasses(missing)}.` });
    }
  }
  if (policy.rejectCommon && isCommonPassword(normalized)) {
    violations.push({
      rule: 'common',
      message: 'Password is too common: it appears in a list of commonly used or breached passwords.',
    });
  }
  // Scored only when the exact list did not already refuse it (and within the length limits).
  if (
    policy.rejectCommon &&
    policy.minScore > 0 &&
    violations.length === 0 &&
    passwordScore(normalized, personalTerms(context)) < policy.minScore
  ) {
    violations.push({
      rule: 'guessable',
      message:
        'Password is too easy to guess: it is built from common words, names or patterns (digits or symbols added, letters swapped for look-alikes, repeats). Use a longer phrase of unrelated words.',
    });
  }
  if (policy.rejectPersonal && containsPersonalTerm(normalized, context)) {
    violations.push({
      rule: 'personal',
      message: 'Password must not contain your email address, first name or last name.',
    });
  }
  return violations;
}

/**
 * The violation to report when {@link findReusedPassword} finds a match, worded like the others.
 */
export function reusedPasswordViolation(historySize: number = DEFAULT_PASSWORD_POLICY.historySize): PasswordViolation {
  const which = historySize === 1 ? 'your previous password' : `any of your last ${historySize} passwords`;
  return { rule: 'reused', message: `Password must not be the same as ${which}.` };
}

/**
 * Whether the password matches one of the user's previous password hashes. Kept apart from
 * {@link checkPassword} because it needs the stored hashes and a slow, asynchronous verification
 * (argon2id); the caller passes at most `historySize` hashes, newest first, and
 * `PasswordHasher.verify` as `verify`. Hashes are tried one at a time, stopping at the first match,
 * so that at most one argon2 computation per request runs at a time.
 */
export async function findReusedPassword(
  password: string,
  previousHashes: string[],
  verify: (hash: string, password: string) => Promise<boolean>,
): Promise<boolean> {
  for (const previousHash of previousHashes) {
    if (await verify(previousHash, password)) return true;
  }
  return false;
}

type CharacterClass = 'lowercase letter' | 'uppercase letter' | 'digit' | 'symbol';

const CHARACTER_CLASSES: readonly (readonly [CharacterClass, RegExp])[] = [
  ['lowercase letter', /\p{Ll}/u],
  ['uppercase letter', /\p{Lu}/u],
  ['digit', /\p{Nd}/u],
  // Anything that is not a letter, a combining mark or a number: punctuation, spaces, emoji...
  ['symbol', /[^\p{L}\p{M}\p{N}]/u],
];

function missingCharacterClasses(password: string): CharacterClass[] {
  return CHARACTER_CLASSES.filter(([, pattern]) => !pattern.test(password)).map(([name]) => name);
}

/** "one digit", "one digit and one symbol", "one uppercase letter, one digit and one symbol". */
function joinClasses(classes: CharacterClass[]): string {
  const items = classes.map((name) => `one ${name}`);
  return items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function containsPersonalTerm(password: string, context: PasswordContext): boolean {
  const lowered = password.toLowerCase();
  return personalTerms(context).some((term) => lowered.includes(term));
}

/**
 * The words a password may not contain: the email's local part (and, for "jane+work@…", its part
 * before the "+"), the first name and the last name, lowercase, when at least 3 characters long.
 */
function personalTerms(context: PasswordContext): string[] {
  const candidates: string[] = [];
  const email = context.email?.trim();
  if (email) {
    const at = email.lastIndexOf('@');
    const localPart = at >= 0 ? email.slice(0, at) : email;
    candidates.push(localPart);
    const plus = localPart.indexOf('+');
    if (plus > 0) candidates.push(localPart.slice(0, plus));
  }
  candidates.push(context.firstName ?? '', context.lastName ?? '');
  return candidates
    .map((term) => normalizePassword(term.trim()).toLowerCase())
    .filter((term) => passwordLength(term) >= MIN_PERSONAL_TERM_LENGTH);
}
