import {
  checkPassword,
  DEFAULT_PASSWORD_POLICY,
  findReusedPassword,
  PasswordRule,
  resolvePasswordPolicy,
  reusedPasswordViolation,
} from '../../../../src/security/passwords/password-policy';

/** A passphrase that breaks no rule of the default policy. */
const GOOD = 'correct horse battery staple';

function rules(password: string, context = {}, options = {}): PasswordRule[] {
  return checkPassword(password, context, options).map((violation) => violation.rule);
}

describe('password policy', () => {
  it('has the NIST SP 800-63B defaults', () => {
    expect(DEFAULT_PASSWORD_POLICY).toEqual({
      minLength: 12,
      maxLength: 128,
      requireComposition: false,
      rejectCommon: true,
      rejectPersonal: true,
      historySize: 5,
      minScore: 3,
    });
  });

  it('accepts a good passphrase', () => {
    expect(checkPassword(GOOD, { email: 'jane.doe@example.com', firstName: 'Jane', lastName: 'Doe' })).toEqual([]);
  });

  describe('length', () => {
    it('rejects a password shorter than 12 characters', () => {
      expect(checkPassword('tulip-river')).toEqual([
        { rule: 'min_length', message: 'Password must be at least 12 characters.' },
      ]);
    });

    it('accepts exactly 12 characters', () => {
      expect(checkPassword('tulip-river9')).toEqual([]);
    });

    it('accepts 128 characters and rejects 129', () => {
      expect(checkPassword('ab'.repeat(64), {}, { minScore: 0 })).toEqual([]);
      expect(checkPassword('ab'.repeat(64) + 'c')).toEqual([
        { rule: 'max_length', message: 'Password must be at most 128 characters.' },
      ]);
    });

    it('counts an emoji as one character (one code point, two UTF-16 units)', () => {
      const elevenAndEmoji = 'tulip-river😀';
      expect(elevenAndEmoji).toHaveLength(13);
      expect(rules(elevenAndEmoji)).toEqual([]);
      const tenAndEmoji = 'tulipriver😀';
      expect(tenAndEmoji).toHaveLength(12);
      expect(rules(tenAndEmoji)).toEqual(['min_length']);
    });

    it('counts length after NFC normalisation', () => {
      const decomposed = 'cafe\u0301-tulips-1'; // "café-tulips-1" with a combining accent: 14 units, 13 in NFC
      expect(rules(decomposed, {}, { minLength: 13, maxLength: 13 })).toEqual([]);
    });

    it('uses the configured limits', () => {
      expect(checkPassword('tulip-river9', {}, { minLength: 15 })).toEqual([
        { rule: 'min_length', message: 'Password must be at least 15 characters.' },
      ]);
      expect(rules(GOOD, {}, { maxLength: 20 })).toEqual(['max_length']);
    });
  });

  describe('composition', () => {
    it('is not required by default', () => {
      expect(rules('all lower case words here')).toEqual([]);
    });

    it('requires lower, upper, digit and symbol when enabled, naming what is missing', () => {
      expect(checkPassword('all lower case words here', {}, { requireComposition: true })).toEqual([
        { rule: 'composition', message: 'Password must contain at least one uppercase letter and one digit.' },
      ]);
      expect(checkPassword('abcdefghijklmn', {}, { requireComposition: true })).toEqual([
        {
          rule: 'composition',
          message: 'Password must contain at least one uppercase letter, one digit and one symbol.',
        },
      ]);
      expect(rules('Tulip-River-42', {}, { requireComposition: true })).toEqual([]);
    });
  });

  describe('common passwords', () => {
    it('rejects a password from the list, whatever its case', () => {
      const expected = [
        {
          rule: 'common',
          message: 'Password is too common: it appears in a list of commonly used or breached passwords.',
        },
      ];
      expect(checkPassword('qwerty123456')).toEqual(expected);
      expect(checkPassword('QWERTY123456')).toEqual(expected);
      expect(rules('administrator')).toEqual(['common']);
    });

    it('can be turned off', () => {
      expect(rules('qwerty123456', {}, { rejectCommon: false })).toEqual([]);
    });

    it('refuses derivatives of common words by zxcvbn score (PASSWORD_MIN_SCORE)', () => {
      // Not on the exact list, but a common word with digits, symbols, leetspeak or repeats.
      for (const derivative of ['password123456', 'P4ssw0rd123456', 'monkeymonkeymonkey', 'qwertyuiop1234']) {
        expect({ derivative, rules: rules(derivative) }).toEqual({ derivative, rules: ['guessable'] });
      }
      expect(rules('password123456', {}, { minScore: 0 })).toEqual([]);
      expect(rules('Quiet-Orchard-7-Lantern')).toEqual([]);
      expect(rules('correct horse staple battery')).toEqual([]);
      expect(() => checkPassword('x', {}, { minScore: 5 })).toThrow(RangeError);
    });
  });

  describe('personal information', () => {
    const message = 'Password must not contain your email address, first name or last name.';

    it('rejects the email local part, case-insensitively', () => {
      expect(checkPassword('my-JSMITH-password', { email: 'jsmith@example.com' })).toEqual([
        { rule: 'personal', message },
      ]);
    });

    it('also rejects the part before a "+" tag', () => {
      expect(rules('my-jsmith-password', { email: 'jsmith+bastion@example.com' })).toEqual(['personal']);
    });

    it('ignores an email local part shorter than 3 characters', () => {
      expect(rules('my-jo-password-here', { email: 'jo@example.com' })).toEqual([]);
    });

    it('rejects the first or the last name', () => {
      expect(rules('i-am-alexandra-now', { firstName: 'Alexandra' })).toEqual(['personal']);
      expect(rules('verstappen-rules!', { lastName: 'Verstappen' })).toEqual(['personal']);
    });

    it('ignores names shorter than 3 characters', () => {
      expect(rules('lion-and-the-ox', { firstName: 'Li', lastName: 'Ox' })).toEqual([]);
    });

    it('can be turned off', () => {
      expect(rules('i-am-alexandra-now', { firstName: 'Alexandra' }, { rejectPersonal: false })).toEqual([]);
    });
  });

  it('lists every rule broken, in a fixed order', () => {
    expect(checkPassword('jane', { firstName: 'Jane' }, { requireComposition: true })).toEqual([
      { rule: 'min_length', message: 'Password must be at least 12 characters.' },
      {
        rule: 'composition',
        message: 'Password must contain at least one uppercase letter, one digit and one symbol.',
      },
      {
        rule: 'common',
        message: 'Password is too common: it appears in a list of commonly used or breached passwords.',
      },
      { rule: 'personal', message: 'Password must not contain your email address, first name or last name.' },
    ]);
    expect(rules('Jane'.repeat(40), { firstName: 'Jane' }, { requireComposition: true })).toEqual([
      'max_length',
      'composition',
      'personal',
    ]);
  });

  it('keeps defaults for options given as undefined and rejects impossible policies', () => {
    expect(resolvePasswordPolicy({ minLength: undefined })).toEqual(DEFAULT_PASSWORD_POLICY);
    expect(() => resolvePasswordPolicy({ minLength: 0 })).toThrow(RangeError);
    expect(() => resolvePasswordPolicy({ minLength: 20, maxLength: 10 })).toThrow(RangeError);
    expect(() => resolvePasswordPolicy({ historySize: -1 })).toThrow(RangeError);
  });
});

describe('password reuse', () => {
  /** Stands in for PasswordHasher.verify: a "hash" here is the password reversed. */
  const calls: string[] = [];
  const verify = async (hash: string, password: string): Promise<boolean> => {
    calls.push(hash);
    return hash === [...password].reverse().join('');
  };

  beforeEach(() => (calls.length = 0));

  it('finds a password among the previous hashes, stopping at the first match', async () => {
    await expect(findReusedPassword('tulip-river9', ['aaa', '9revir-pilut', 'bbb'], verify)).resolves.toBe(true);
    expect(calls).toEqual(['aaa', '9revir-pilut']);
  });

  it('returns false when no previous hash matches or there is no history', async () => {
    await expect(findReusedPassword('tulip-river9', ['aaa', 'bbb'], verify)).resolves.toBe(false);
    await expect(findReusedPassword('tulip-river9', [], verify)).resolves.toBe(false);
  });

  it('has a violation worded like the others', () => {
    expect(reusedPasswordViolation(5)).toEqual({
      rule: 'reused',
      message: 'Password must not be the same as any of your last 5 passwords.',
    });
    expect(reusedPasswordViolation(1).message).toBe('Password must not be the same as your previous password.');
  });
});
