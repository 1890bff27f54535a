import { parseArgon2Phc } from '../../../../src/security/passwords/argon2-phc';

describe('parseArgon2Phc', () => {
  it('reads algorithm, version and costs', () => {
    expect(parseArgon2Phc('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo')).toEqual({
      algorithm: 'argon2id',
      version: 19,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    expect(parseArgon2Phc('$argon2i$m=4096,t=3,p=1$c2FsdA$aGFzaA')).toEqual({
      algorithm: 'argon2i',
      version: 16,
      memoryCost: 4096,
      timeCost: 3,
      parallelism: 1,
    });
  });

  it.each(['', 'plain', '$2b$10$abcdefghijklmnopqrstuuvwxyz', '$argon2id$v=19$m=19456,t=2,p=1$', '$scrypt$ln=15$a$b'])(
    'returns undefined for %j',
    (encoded) => {
      expect(parseArgon2Phc(encoded)).toBeUndefined();
    },
  );
});
