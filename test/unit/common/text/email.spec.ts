import { emailSkeleton, normalizeEmail } from '../../../../src/common/text/email';

describe('email normalisation and confusable skeletons', () => {
  it('normalises with NFKC and lower case', () => {
    expect(normalizeEmail(' ＪＡＮＥ.Doe@Example.COM ')).toBe('jane.doe@example.com');
  });

  it('gives look-alikes the skeleton of the address they imitate', () => {
    const real = emailSkeleton('jane.doe@example.com');
    for (const lookalike of [
      'j\u0430ne.doe@example.com', // Cyrillic а
      'jane.d\u03bfe@example.com', // Greek ο
      'jane.d0e@example.com',
      'jane.doe@exarnple.com',
      'jané.doe@example.com',
      'ja\u200bne.doe@example.com',
    ]) {
      expect({ lookalike, skeleton: emailSkeleton(lookalike) }).toEqual({ lookalike, skeleton: real });
    }
    expect(emailSkeleton('john.doe@example.com')).not.toBe(real);
  });
});
