import { createHmac } from 'node:crypto';
import { base32Decode, base32Encode } from '../../../../src/security/mfa/base32';
import {
  newTotpSecret,
  normalizeTotpCode,
  totpCode,
  totpStep,
  totpUri,
  verifyTotp,
} from '../../../../src/security/mfa/totp';

/** RFC 6238 appendix B, SHA-1: the 20-byte ASCII secret "12345678901234567890". */
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890'));

/** An HOTP of the test's own, for cross-checking random secrets. */
function hotp(key: Buffer, counter: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const o = mac[19] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

describe('base32 (RFC 4648)', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes %j as %s and back', (text, encoded) => {
    expect(base32Encode(Buffer.from(text))).toBe(encoded);
    expect(base32Decode(encoded)?.toString()).toBe(text);
  });

  it('decodes case-insensitively, ignoring spaces and padding; refuses other characters', () => {
    expect(base32Decode('mzxw 6ytb oi======')?.toString()).toBe('foobar');
    expect(base32Decode('MZXW1')).toBeNull();
    expect(base32Decode('MZXW6YTBOJ')).toBeNull(); // leftover bits that are not zero
  });
});

describe('TOTP (RFC 6238: SHA-1, 6 digits, 30 s)', () => {
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
    [20000000000, '353130'],
  ])('gives the RFC 6238 code at T=%d', (seconds, code) => {
    expect(totpCode(RFC_SECRET, seconds * 1000)).toBe(code);
    expect(verifyTotp(RFC_SECRET, code, { now: new Date(seconds * 1000) })).toMatchObject({ valid: true, drift: 0 });
  });

  it('issues 160-bit base32 secrets whose codes match an independent HOTP', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(newTotpSecret()).not.toBe(secret);
    const now = Date.now();
    expect(totpCode(secret, now)).toBe(hotp(base32Decode(secret)!, totpStep(now)));
  });

  it('accepts one step of drift either way, not two', () => {
    const now = new Date(1_800_000_015_000);
    const step = totpStep(now);
    const at = (d: number): string => totpCode(RFC_SECRET, (step + d) * 30_000);
    expect(verifyTotp(RFC_SECRET, at(-1), { now })).toEqual({ valid: true, step: step - 1, drift: -1 });
    expect(verifyTotp(RFC_SECRET, at(0), { now })).toEqual({ valid: true, step, drift: 0 });
    expect(verifyTotp(RFC_SECRET, at(1), { now })).toEqual({ valid: true, step: step + 1, drift: 1 });
    expect(verifyTotp(RFC_SECRET, at(-2), { now })).toEqual({ valid: false, reason: 'mismatch' });
    expect(verifyTotp(RFC_SECRET, at(2), { now })).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('refuses the code of the last used step and every earlier one (replay)', () => {
    const now = new Date(1_800_000_015_000);
    const step = totpStep(now);
    const at = (d: number): string => totpCode(RFC_SECRET, (step + d) * 30_000);
    expect(verifyTotp(RFC_SECRET, at(0), { now, afterStep: step })).toEqual({ valid: false, reason: 'replayed' });
    expect(verifyTotp(RFC_SECRET, at(-1), { now, afterStep: step })).toEqual({ valid: false, reason: 'replayed' });
    expect(verifyTotp(RFC_SECRET, at(1), { now, afterStep: step })).toMatchObject({ valid: true, step: step + 1 });
    expect(verifyTotp(RFC_SECRET, at(0), { now, afterStep: step - 1 })).toMatchObject({ valid: true, step });
    // A last step beyond the whole window (the next step was used, then the clock went back): nothing is fresh.
    expect(verifyTotp(RFC_SECRET, at(1), { now, afterStep: step + 1 })).toEqual({ valid: false, reason: 'replayed' });
    expect(verifyTotp(RFC_SECRET, at(1), { now, afterStep: step + 9 })).toEqual({ valid: false, reason: 'replayed' });
    expect(verifyTotp(RFC_SECRET, '000000', { now, afterStep: step + 9 }).valid).toBe(false);
  });

  it('refuses malformed input without throwing, and takes spaces', () => {
    const now = new Date(1_800_000_015_000);
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345a', '١٢٣٤٥٦']) {
      expect(verifyTotp(RFC_SECRET, bad, { now })).toEqual({ valid: false, reason: 'malformed' });
    }
    expect(verifyTotp('not base32!', '123456', { now })).toEqual({ valid: false, reason: 'malformed' });
    expect(normalizeTotpCode(' 123 456 ')).toBe('123456');
    const code = totpCode(RFC_SECRET, now);
    expect(verifyTotp(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, { now }).valid).toBe(true);
  });

  it('builds a Key Uri Format URL that authenticator apps read', () => {
    const uri = totpUri('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'jane.doe+x@example.com', 'Bastion');
    expect(uri).toBe(
      'otpauth://totp/Bastion:jane.doe%2Bx%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bastion&algorithm=SHA1&digits=6&period=30',
    );
  });
});
