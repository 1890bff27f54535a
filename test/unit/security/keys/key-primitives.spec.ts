import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  verify,
} from 'node:crypto';
import {
  formatVersioned,
  generateMaterial,
  KeyOperationError,
  KeyVersionHandle,
  parseVersioned,
} from '../../../../src/security/keys/key-primitives';
import { MasterKeyring, MasterKeyUnavailableError } from '../../../../src/security/keys/master-keyring';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('HMAC-SHA-256: RFC 4231 test vectors', () => {
  const cases: [string, Buffer, Buffer, string][] = [
    [
      '1',
      Buffer.alloc(20, 0x0b),
      Buffer.from('Hi There'),
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    ],
    [
      '2',
      Buffer.from('Jefe'),
      Buffer.from('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    ],
    [
      '3',
      Buffer.alloc(20, 0xaa),
      Buffer.alloc(50, 0xdd),
      '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    ],
    [
      '4',
      Buffer.from(Array.from({ length: 25 }, (_, i) => i + 1)),
      Buffer.alloc(50, 0xcd),
      '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    ],
    [
      '6',
      Buffer.alloc(131, 0xaa),
      Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    ],
    [
      '7',
      Buffer.alloc(131, 0xaa),
      Buffer.from(
        'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      ),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ];

  it.each(cases)('test case %s', (_n, key, data, expected) => {
    const handle = new KeyVersionHandle('hmac', 1, key);
    expect(handle.hmac(data).toString('hex')).toBe(expected);
    expect(handle.verifyHmac(data, hex(expected))).toBe(true);
    const wrong = hex(expected);
    wrong[31] ^= 1;
    expect(handle.verifyHmac(data, wrong)).toBe(false);
    expect(handle.verifyHmac(data, wrong.subarray(0, 16))).toBe(false);
  });
});

describe('Ed25519: RFC 8032 §7.1 test vectors', () => {
  // PKCS#8 of an Ed25519 seed: the fixed DER prefix, then the 32 bytes.
  const pkcs8 = (seed: string): Buffer => Buffer.concat([hex('302e020100300506032b657004220420'), hex(seed)]);
  const cases: [string, string, string, string, string][] = [
    [
      'TEST 1',
      '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      '',
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    ],
    [
      'TEST 2',
      '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      '72',
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    ],
    [
      'TEST 3',
      'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      'af82',
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    ],
  ];

  it.each(cases)('%s', (_name, seed, publicKey, message, signature) => {
    const handle = new KeyVersionHandle('ed25519', 1, pkcs8(seed));
    const jwk = createPublicKey(handle.publicKeyPem()!).export({ format: 'jwk' });
    expect(Buffer.from(jwk.x!, 'base64url').toString('hex')).toBe(publicKey);
    expect(handle.sign(hex(message)).toString('hex')).toBe(signature);
    expect(handle.verify(hex(message), hex(signature))).toBe(true);
    expect(handle.verify(Buffer.from('other'), hex(signature))).toBe(false);
    expect(() => handle.sign(createHash('sha256').update(hex(message)).digest(), true)).toThrow(KeyOperationError);
  });
});

describe('documented formats, checked with plain node:crypto', () => {
  const message = Buffer.from('transfer 100.00 EUR to account 42');
  const context = Buffer.from('order-7');

  it.each([
    ['aes256-gcm', 'aes-256-gcm'],
    ['chacha20-poly1305', 'chacha20-poly1305'],
  ] as const)('%s: nonce(12) ‖ ciphertext ‖ tag(16), context as AAD, both ways', (type, cipherName) => {
    const key = randomBytes(32);
    const handle = new KeyVersionHandle(type, 3, key);
    const formatted = formatVersioned(3, handle.encrypt(message, context));
    expect(formatted).toMatch(/^bastion:v3:[A-Za-z0-9+/]+=*$/);
    const { version, bytes } = parseVersioned(formatted);
    expect(version).toBe(3);
    const decipher = createDecipheriv(cipherName, key, bytes.subarray(0, 12), {
      authTagLength: 16,
    } as never) as never as {
      setAAD(b: Buffer, o: object): void;
      setAuthTag(b: Buffer): void;
      update(b: Buffer): Buffer;
      final(): Buffer;
    };
    decipher.setAAD(context, { plaintextLength: bytes.length - 28 });
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    expect(Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()])).toEqual(message);

    // And a ciphertext made by plain node:crypto opens in Bastion.
    const nonce = randomBytes(12);
    const cipher = createCipheriv(cipherName, key, nonce, { authTagLength: 16 } as never) as never as {
      setAAD(b: Buffer, o: object): void;
      getAuthTag(): Buffer;
      update(b: Buffer): Buffer;
      final(): Buffer;
    };
    cipher.setAAD(context, { plaintextLength: message.length });
    const body = Buffer.concat([cipher.update(message), cipher.final()]);
    expect(handle.decrypt(Buffer.concat([nonce, body, cipher.getAuthTag()]), context)).toEqual(message);
    expect(() => handle.decrypt(bytes, Buffer.from('order-8'))).toThrow(KeyOperationError);
    expect(() => handle.decrypt(bytes)).toThrow(KeyOperationError);
  });

  it('rsa-3072: RSA-OAEP-SHA-256 with the context as label; RSA-PSS signatures (message and prehashed)', async () => {
    const { material, publicKeyPem } = await generateMaterial('rsa-3072');
    const handle = new KeyVersionHandle('rsa-3072', 1, material);
    const publicKey = createPublicKey(publicKeyPem!);
    const ciphertext = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: context },
      message,
    );
    expect(handle.decrypt(ciphertext, context)).toEqual(message);
    expect(() => handle.decrypt(ciphertext)).toThrow(KeyOperationError);
    expect(() => handle.encrypt(Buffer.alloc(319))).toThrow('at most 318 bytes');

    const pss = { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(verify('sha256', message, pss, handle.sign(message))).toBe(true);
    const digest = createHash('sha256').update(message).digest();
    const prehashed = handle.sign(digest, true);
    expect(verify('sha256', message, pss, prehashed)).toBe(true);
    expect(handle.verify(digest, prehashed, true)).toBe(true);
    expect(handle.verify(message, prehashed)).toBe(true);
    prehashed[10] ^= 1;
    expect(handle.verify(digest, prehashed, true)).toBe(false);
    expect(() => handle.sign(Buffer.alloc(31), true)).toThrow('SHA-256 digest');
  });

  it('ecdsa-p256: P1363 (r ‖ s) signatures, message and prehashed, verified by node:crypto', async () => {
    const { material, publicKeyPem } = await generateMaterial('ecdsa-p256');
    const handle = new KeyVersionHandle('ecdsa-p256', 1, material);
    const key = { key: createPublicKey(publicKeyPem!), dsaEncoding: 'ieee-p1363' as const };
    const signature = handle.sign(message);
    expect(signature).toHaveLength(64);
    expect(verify('sha256', message, key, signature)).toBe(true);
    const digest = createHash('sha256').update(message).digest();
    const prehashed = handle.sign(digest, true);
    expect(verify('sha256', message, key, prehashed)).toBe(true);
    expect(handle.verify(digest, signature, true)).toBe(true);
    expect(handle.verify(createHash('sha256').update('other').digest(), prehashed, true)).toBe(false);
    // RFC 6979: the same digest gives the same signature.
    expect(handle.sign(digest, true)).toEqual(prehashed);
  });

  it('refuses what is not a Bastion value', () => {
    for (const bad of ['', 'bastion:v0:AAAA', 'bastion:v1:AAA', 'vault:v1:AAAA', 'bastion:1:AAAA'])
      expect(() => parseVersioned(bad)).toThrow(KeyOperationError);
  });
});

describe('MasterKeyring', () => {
  it('wraps under the current master key, opens under a previous one, binds the blob to its key version', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const material = randomBytes(32);
    const before = new MasterKeyring(oldKey);
    const wrapped = before.wrap(material, 'k1/v1');
    expect(wrapped.startsWith(`${MasterKeyring.kidOf(oldKey)}:`)).toBe(true);
    expect(wrapped).not.toContain(material.toString('base64url'));

    const during = new MasterKeyring(newKey, [oldKey]);
    expect(during.unwrap(wrapped, 'k1/v1')).toEqual(material);
    expect(() => during.unwrap(wrapped, 'k1/v2')).toThrow('failed authentication');
    const rewrapped = during.wrap(material, 'k1/v1');
    expect(MasterKeyring.kidOfWrapped(rewrapped)).toBe(MasterKeyring.kidOf(newKey));

    const after = new MasterKeyring(newKey);
    expect(after.unwrap(rewrapped, 'k1/v1')).toEqual(material);
    expect(() => after.unwrap(wrapped, 'k1/v1')).toThrow(MasterKeyUnavailableError);
    expect(MasterKeyring.kidOf(oldKey)).not.toBe(MasterKeyring.kidOf(newKey));
  });

  it('keeps private keys wrapped, not only symmetric ones', async () => {
    const { material } = await generateMaterial('ed25519');
    const ring = new MasterKeyring(randomBytes(32));
    const opened = ring.unwrap(ring.wrap(material, 'k/v1'), 'k/v1');
    expect(createPrivateKey({ key: opened, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('ed25519');
  });
});
