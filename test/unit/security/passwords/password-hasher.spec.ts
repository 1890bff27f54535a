import { PasswordHasher } from '../../../../src/security/passwords/password-hasher';

/** Small costs keep the suite fast; the algorithm and code paths are the same. */
const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(FAST);

  it('defaults to the OWASP argon2id parameters', async () => {
    const defaults = new PasswordHasher();
    expect(defaults.options).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const hash = await defaults.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(defaults.needsRehash(hash)).toBe(false);
  });

  it('hashes to an argon2id PHC string with a fresh salt each time', async () => {
    const first = await hasher.hash('correct horse battery staple');
    const second = await hasher.hash('correct horse battery staple');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(second).not.toBe(first);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify(hash, 'correct horse battery staple')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'Correct horse battery staple')).resolves.toBe(false);
    await expect(hasher.verify(hash, '')).resolves.toBe(false);
  });

  it('verifies a password typed in another Unicode normal form', async () => {
    const hash = await hasher.hash('caf\u00e9 au lait, s\u2019il vous pla\u00eet');
    await expect(hasher.verify(hash, 'cafe\u0301 au lait, s\u2019il vous plai\u0302t')).resolves.toBe(true);
  });

  it('verifies hashes made with other parameters, reading them from the hash', async () => {
    const older = new PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 2 });
    const hash = await older.hash('correct horse battery staple');
    await expect(hasher.verify(hash, 'correct horse battery staple')).resolves.toBe(true);
  });

  it.each([
    '',
    'not a hash',
    '$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV',
    '$argon2id$v=19$m=1024,t=1,p=1$$',
    '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaA',
    '$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo',
  ])('returns false instead of throwing for the malformed hash %j', async (malformed) => {
    await expect(hasher.verify(malformed, 'correct horse battery staple')).resolves.toBe(false);
  });

  it('returns false for a truncated hash', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify(hash.slice(0, -10), 'correct horse battery staple')).resolves.toBe(false);
  });

  describe('needsRehash', () => {
    it('is false for a hash made with the same parameters', async () => {
      expect(hasher.needsRehash(await hasher.hash('correct horse battery staple'))).toBe(false);
    });

    it.each([
      ['memoryCost', { ...FAST, memoryCost: 2048 }],
      ['timeCost', { ...FAST, timeCost: 2 }],
      ['parallelism', { ...FAST, parallelism: 2 }],
    ])('is true when %s differs', async (_name, options) => {
      const hash = await new PasswordHasher(options).hash('correct horse battery staple');
      expect(hasher.needsRehash(hash)).toBe(true);
    });

    it('is true for another argon2 variant or version, or a malformed hash', () => {
      expect(hasher.needsRehash('$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo')).toBe(true);
      expect(hasher.needsRehash('$argon2id$v=16$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo')).toBe(true);
      expect(hasher.needsRehash('$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUV')).toBe(true);
      expect(hasher.needsRehash('')).toBe(true);
    });
  });

  describe('verifyDummy', () => {
    it('always resolves to false', async () => {
      await expect(hasher.verifyDummy('correct horse battery staple')).resolves.toBe(false);
      await expect(hasher.verifyDummy('')).resolves.toBe(false);
    });

    it('can be warmed up ahead of the first login', async () => {
      const fresh = new PasswordHasher(FAST);
      await fresh.warmUp();
      await expect(fresh.verifyDummy('anything at all')).resolves.toBe(false);
    });
  });

  it('rejects parameters argon2 cannot use', () => {
    expect(() => new PasswordHasher({ memoryCost: 4 })).toThrow(RangeError);
    expect(() => new PasswordHasher({ timeCost: 0 })).toThrow(RangeError);
    expect(() => new PasswordHasher({ parallelism: 1.5 })).toThrow(RangeError);
    expect(new PasswordHasher({ timeCost: undefined }).options.timeCost).toBe(2);
  });
});
