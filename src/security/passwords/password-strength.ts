import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

/**
 * Guessability of a password with zxcvbn-ts (0 = too guessable … 4 = very unguessable): it finds
 * dictionary words (common passwords, English words, names) under leetspeak, reversal, repeats,
 * sequences, keyboard patterns and dates, with digits or symbols appended, which an exact deny list
 * misses (`password123456`, `P4ssw0rd!!!!`). The factory (about 1 MB of dictionaries) is built on
 * first use. Only the first SCORED_LENGTH characters are scored, bounding the CPU one check takes.
 */
export const SCORED_LENGTH = 64;

let factory: ZxcvbnFactory | undefined;

function zxcvbn(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
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
