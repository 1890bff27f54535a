import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/**
 * Guessability of a password with zxcvbn-ts (0 = too guessable … 4 = very unguessable): it finds
 * dictionary words (common passwords, English words, names) under leetspeak, reversal, repeats,
 * sequences, keyboard patterns and dates, with digits or symbols appended, which an exact deny list
 * misses (`password123456`, `P4ssw0rd!!!!`). The packages and the factory are loaded on first use:
 * their dictionaries cost about 65 MB of resident memory, which an instance that never checks a
 * password (an idle cluster node, a reader) should not hold. Only the first SCORED_LENGTH characters are scored, bounding the CPU one check takes.
 */
export const SCORED_LENGTH = 64;

let factory: ZxcvbnFactory | undefined;

function zxcvbn(): ZxcvbnFactory {
  if (factory) return factory;
  // Synchronous on purpose (the policy check is a pure function); loaded once, on the first check.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ZxcvbnFactory } = require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
  const common = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
  const en = require('@zxcvbn-ts/language-en') as typeof import('@zxcvbn-ts/language-en');
  /* eslint-enable @typescript-eslint/no-require-imports */
  factory = new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    maxLength: SCORED_LENGTH,
    l33tMaxSubstitutions: 8,
  });
  return factory;
}

/** The zxcvbn score (0–4) of a password, with the user's own words counted as guessable. */
export function passwordScore(password: string, userWords: string[] = []): number {
  return zxcvbn().check(password, userWords).score;
}
