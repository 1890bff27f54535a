import { randomBytes } from 'node:crypto';
import { DecryptionError, Keyring, parseEnvelope } from '../../../../src/security/crypto/keyring';

/**
 * The legacy envelope keyring: envelopes written before key management (`v<n>:<iv>:<tag>:<ct>`
 * under HKDF keys of MASTER_KEY) still open, so existing TOTP secrets migrate to `bastion-totp`.
 * EncryptionService itself runs on named internal keys: see test/e2e/security/keys-internal.e2e-spec.ts.
 */
class EncryptionService {
  private readonly keyring: Keyring;
  constructor(keys: { versions: { version: number; material: Buffer }[]; current: number }) {
    this.keyring = new Keyring(keys.versions, keys.current);
  }
  get currentVersion(): number {
    return this.keyring.current;
  }
  encrypt(purpose: string, plaintext: string | Buffer, context = ''): string {
    return this.keyring.seal(purpose, typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext, context);
  }
  decrypt(purpose: string, envelope: string, context = ''): Buffer {
    return this.keyring.open(purpose, envelope, context);
  }
  decryptText(purpose: string, envelope: string, context = ''): string {
    return this.decrypt(purpose, envelope, context).toString('utf8');
  }
  needsRewrap(envelope: string): boolean {
    const version = this.keyring.versionOf(envelope);
    return version !== null && version !== this.keyring.current;
  }
  rewrap(purpose: string, envelope: string, context = ''): string {
    return this.keyring.seal(purpose, this.keyring.open(purpose, envelope, context), context);
  }
}

const material = (): Buffer => randomBytes(32);

describe('legacy envelopes (AES-256-GCM under versioned HKDF keys of the master key)', () => {
  const v1 = { version: 1, material: material() };
  const service = new EncryptionService({ versions: [v1], current: 1 });
  const userA = '0b7c6a2e-3f7e-4a4e-9c55-2d0f3f1b7a10';
  const userB = '5d1f0a4c-8e2b-4c3d-a6f1-9b0e7c2d4a55';

  it('round-trips text and bytes, with a fresh IV each time', () => {
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const a = service.encrypt('totp', secret, userA);
    const b = service.encrypt('totp', secret, userA);
    expect(a).not.toBe(b);
    expect(service.decryptText('totp', a, userA)).toBe(secret);
    expect(service.decryptText('totp', b, userA)).toBe(secret);
    const bytes = randomBytes(100);
    expect(service.decrypt('blob', service.encrypt('blob', bytes)).equals(bytes)).toBe(true);
    expect(service.decryptText('empty', service.encrypt('empty', ''))).toBe('');
  });

  it('writes `v<version>:<iv>:<tag>:<ciphertext>` and never the plaintext', () => {
    const envelope = service.encrypt('totp', 'JBSWY3DPEHPK3PXP', userA);
    expect(envelope).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain('JBSWY3DPEHPK3PXP');
    expect(parseEnvelope(envelope)).toMatchObject({ version: 1 });
  });

  it.each([
    ['the ciphertext', 3],
    ['the tag', 2],
    ['the IV', 1],
  ])('detects tampering with %s', (_what, part) => {
    const envelope = service.encrypt('totp', 'a secret worth keeping', userA);
    const parts = envelope.split(':');
    const bytes = Buffer.from(parts[part], 'base64url');
    bytes[0] ^= 0x01;
    parts[part] = bytes.toString('base64url');
    expect(() => service.decrypt('totp', parts.join(':'), userA)).toThrow(DecryptionError);
  });

  it('refuses another context (AAD: the row owner), another purpose and a rewritten version header', () => {
    const envelope = service.encrypt('totp', 'secret', userA);
    expect(() => service.decrypt('totp', envelope, userB)).toThrow(DecryptionError);
    expect(() => service.decrypt('totp', envelope)).toThrow(DecryptionError);
    expect(() => service.decrypt('named-key', envelope, userA)).toThrow(DecryptionError);
    const both = new EncryptionService({ versions: [v1, { version: 2, material: v1.material }], current: 1 });
    expect(() => both.decrypt('totp', envelope.replace(/^v1:/, 'v2:'), userA)).toThrow(DecryptionError);
  });

  it('refuses malformed envelopes and unknown versions without leaking anything', () => {
    for (const bad of [
      '',
      'plaintext',
      'v1:abc',
      'v0:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA:AA',
      'v1:short:short:AA',
    ]) {
      expect(() => service.decrypt('totp', bad, userA)).toThrow(DecryptionError);
    }
    const other = new EncryptionService({ versions: [{ version: 7, material: material() }], current: 7 });
    const envelope = other.encrypt('totp', 'secret', userA);
    expect(() => service.decrypt('totp', envelope, userA)).toThrow('key version 7 is not available');
  });

  it('still decrypts data of an older version after a rotation, and rewraps it under the current one', () => {
    const old = service.encrypt('totp', 'written before the rotation', userA);
    const rotated = new EncryptionService({ versions: [v1, { version: 2, material: material() }], current: 2 });
    expect(rotated.currentVersion).toBe(2);
    expect(rotated.decryptText('totp', old, userA)).toBe('written before the rotation');
    expect(rotated.needsRewrap(old)).toBe(true);
    const rewrapped = rotated.rewrap('totp', old, userA);
    expect(rewrapped.startsWith('v2:')).toBe(true);
    expect(rotated.needsRewrap(rewrapped)).toBe(false);
    expect(rotated.decryptText('totp', rewrapped, userA)).toBe('written before the rotation');
    const fresh = rotated.encrypt('totp', 'new data', userA);
    expect(fresh.startsWith('v2:')).toBe(true);
    // Version 1 alone cannot read version 2 data: retiring a version needs the data rewrapped first.
    expect(() => service.decrypt('totp', fresh, userA)).toThrow(DecryptionError);
  });

  it('derives distinct keys per purpose and per version from one master key', () => {
    const sameMaterial = new Keyring(
      [
        { version: 1, material: v1.material },
        { version: 2, material: v1.material },
      ],
      2,
    );
    const underV2 = sameMaterial.seal('totp', Buffer.from('x'), userA);
    expect(() => service.decrypt('totp', underV2.replace(/^v2:/, 'v1:'), userA)).toThrow(DecryptionError);
  });

  it('refuses a bad keyring or purpose at once', () => {
    expect(() => new Keyring([{ version: 1, material: randomBytes(16) }], 1)).toThrow('less than 32 bytes');
    expect(() => new Keyring([v1], 2)).toThrow('current key version 2');
    expect(() => new Keyring([v1, v1], 1)).toThrow('listed twice');
    expect(() => service.encrypt('Bad Purpose!', 'x')).toThrow('not a valid encryption purpose');
  });
});
