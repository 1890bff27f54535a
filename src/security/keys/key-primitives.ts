import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  privateDecrypt,
  publicDecrypt,
  publicEncrypt,
  randomBytes,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto';
import { promisify } from 'node:util';

/**
 * The cryptography of named keys, with no Nest and no database inside: key generation and every
 * operation, all on node:crypto. The formats are documented in the README ("Key management") and
 * checked against plain node:crypto and jose by test/unit/security/keys/key-primitives.spec.ts.
 *
 * Every ciphertext, signature and HMAC is `bastion:v<version>:<base64>`:
 * - aes256-gcm, chacha20-poly1305: base64(nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)), the
 *   optional context as additional authenticated data.
 * - rsa-3072, rsa-4096 encryption: RSA-OAEP, SHA-256 and MGF1-SHA-256, the context as OAEP label.
 * - rsa-* signatures: RSA-PSS, SHA-256, MGF1-SHA-256, salt length 32.
 * - ecdsa-p256 signatures: ECDSA P-256 with SHA-256, IEEE P1363 form (r ‖ s, 64 bytes), as JWS ES256.
 * - ed25519 signatures: pure Ed25519 (RFC 8032), 64 bytes.
 * - hmac: HMAC-SHA-256, 32 bytes.
 */

export const KEY_TYPES = [
  'aes256-gcm',
  'chacha20-poly1305',
  'rsa-3072',
  'rsa-4096',
  'ed25519',
  'ecdsa-p256',
  'hmac',
] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const KEY_OPERATIONS = [
  'encrypt',
  'decrypt',
  'rewrap',
  'datakey',
  'sign',
  'verify',
  'hmac',
  'verify-hmac',
] as const;
export type KeyOperation = (typeof KEY_OPERATIONS)[number];

/** What each type can do; a key's `allowedOperations` is a subset of this. */
export const TYPE_OPERATIONS: Record<KeyType, readonly KeyOperation[]> = {
  'aes256-gcm': ['encrypt', 'decrypt', 'rewrap', 'datakey'],
  'chacha20-poly1305': ['encrypt', 'decrypt', 'rewrap', 'datakey'],
  'rsa-3072': ['encrypt', 'decrypt', 'rewrap', 'sign', 'verify'],
  'rsa-4096': ['encrypt', 'decrypt', 'rewrap', 'sign', 'verify'],
  ed25519: ['sign', 'verify'],
  'ecdsa-p256': ['sign', 'verify'],
  hmac: ['hmac', 'verify-hmac'],
};

export const isAsymmetric = (type: KeyType): boolean =>
  type === 'rsa-3072' || type === 'rsa-4096' || type === 'ed25519' || type === 'ecdsa-p256';

/** Why an operation failed on one input; `code` becomes the problem code or the batch item's error. */
export class KeyOperationError extends Error {
  constructor(
    readonly code:
      'malformed' | 'decryption_failed' | 'version_unavailable' | 'version_retired' | 'unsupported' | 'too_large',
    message: string,
  ) {
    super(message);
    this.name = 'KeyOperationError';
  }
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SYMMETRIC_KEY_BYTES = 32;
const PSS_SALT_BYTES = 32;
const SHA256_BYTES = 32;
const PREFIX = /^bastion:v([1-9][0-9]{0,8}):([A-Za-z0-9+/]*={0,2})$/;

export interface Versioned {
  version: number;
  bytes: Buffer;
}

export function formatVersioned(version: number, bytes: Buffer): string {
  return `bastion:v${version}:${bytes.toString('base64')}`;
}

/** `bastion:v<N>:<base64>` → version and bytes; KeyOperationError('malformed') otherwise. */
export function parseVersioned(value: string, what = 'ciphertext'): Versioned {
  const m = typeof value === 'string' ? PREFIX.exec(value) : null;
  if (!m || m[2].length % 4 !== 0)
    throw new KeyOperationError('malformed', `not a Bastion ${what} (bastion:v<N>:<base64>)`);
  return { version: Number(m[1]), bytes: Buffer.from(m[2], 'base64') };
}

/** The secret material of a new key version: 32 random bytes, or a PKCS#8 DER private key. */
export async function generateMaterial(type: KeyType): Promise<{ material: Buffer; publicKeyPem: string | null }> {
  const gen = promisify(generateKeyPair) as unknown as (
    kind: string,
    options: object,
  ) => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  switch (type) {
    case 'aes256-gcm':
    case 'chacha20-poly1305':
    case 'hmac':
      return { material: randomBytes(SYMMETRIC_KEY_BYTES), publicKeyPem: null };
    case 'rsa-3072':
    case 'rsa-4096':
      pair = await gen('rsa', { modulusLength: type === 'rsa-3072' ? 3072 : 4096, publicExponent: 0x10001 });
      break;
    case 'ed25519':
      pair = await gen('ed25519', {});
      break;
    case 'ecdsa-p256':
      pair = await gen('ec', { namedCurve: 'P-256' });
      break;
  }
  return {
    material: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    publicKeyPem: pair.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** One usable key version: its material in the form node:crypto wants. */
export class KeyVersionHandle {
  private readonly privateKey?: KeyObject;
  private readonly publicKey?: KeyObject;

  constructor(
    readonly type: KeyType,
    readonly version: number,
    private readonly secret: Buffer,
  ) {
    if (isAsymmetric(type)) {
      this.privateKey = createPrivateKey({ key: secret, format: 'der', type: 'pkcs8' });
      this.publicKey = createPublicKey(this.privateKey);
    } else if (type === 'hmac' ? secret.length === 0 : secret.length !== SYMMETRIC_KEY_BYTES) {
      throw new Error(`a ${type} key must have ${SYMMETRIC_KEY_BYTES} bytes`);
    }
  }

  publicKeyPem(): string | null {
    return this.publicKey?.export({ format: 'pem', type: 'spki' }).toString() ?? null;
  }

  /** The raw ciphertext bytes (not yet `bastion:v<N>:`-formatted). */
  encrypt(plaintext: Buffer, context?: Buffer): Buffer {
    switch (this.type) {
      case 'aes256-gcm':
      case 'chacha20-poly1305': {
        const nonce = randomBytes(NONCE_BYTES);
        const cipher = createCipheriv(
          this.type === 'aes256-gcm' ? 'aes-256-gcm' : 'chacha20-poly1305',
          this.secret,
          nonce,
          {
            authTagLength: TAG_BYTES,
          } as never,
        ) as ReturnType<typeof createCipheriv> & { setAAD(b: Buffer, o?: object): void; getAuthTag(): Buffer };
        if (context?.length) cipher.setAAD(context, { plaintextLength: plaintext.length });
        const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        return Buffer.concat([nonce, body, cipher.getAuthTag()]);
      }
      case 'rsa-3072':
      case 'rsa-4096': {
        const max = this.rsaBytes() - 2 * SHA256_BYTES - 2;
        if (plaintext.length > max)
          throw new KeyOperationError('too_large', `RSA-OAEP encrypts at most ${max} bytes with this key`);
        return publicEncrypt(
          {
            key: this.publicKey!,
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: 'sha256',
            ...(context?.length ? { oaepLabel: context } : {}),
          },
          plaintext,
        );
      }
      default:
        throw new KeyOperationError('unsupported', `a ${this.type} key does not encrypt`);
    }
  }

  decrypt(ciphertext: Buffer, context?: Buffer): Buffer {
    switch (this.type) {
      case 'aes256-gcm':
      case 'chacha20-poly1305': {
        if (ciphertext.length < NONCE_BYTES + TAG_BYTES)
          throw new KeyOperationError('malformed', 'ciphertext too short');
        const nonce = ciphertext.subarray(0, NONCE_BYTES);
        const tag = ciphertext.subarray(ciphertext.length - TAG_BYTES);
        const body = ciphertext.subarray(NONCE_BYTES, ciphertext.length - TAG_BYTES);
        const decipher = createDecipheriv(
          this.type === 'aes256-gcm' ? 'aes-256-gcm' : 'chacha20-poly1305',
          this.secret,
          nonce,
          { authTagLength: TAG_BYTES } as never,
        ) as ReturnType<typeof createDecipheriv> & { setAAD(b: Buffer, o?: object): void; setAuthTag(b: Buffer): void };
        if (context?.length) decipher.setAAD(context, { plaintextLength: body.length });
        decipher.setAuthTag(tag);
        try {
          return Buffer.concat([decipher.update(body), decipher.final()]);
        } catch {
          throw new KeyOperationError(
            'decryption_failed',
            'the ciphertext failed authentication (wrong key, context, or tampered)',
          );
        }
      }
      case 'rsa-3072':
      case 'rsa-4096':
        try {
          return privateDecrypt(
            {
              key: this.privateKey!,
              padding: constants.RSA_PKCS1_OAEP_PADDING,
              oaepHash: 'sha256',
              ...(context?.length ? { oaepLabel: context } : {}),
            },
            ciphertext,
          );
        } catch {
          throw new KeyOperationError(
            'decryption_failed',
            'the ciphertext could not be decrypted (wrong key or context, or tampered)',
          );
        }
      default:
        throw new KeyOperationError('unsupported', `a ${this.type} key does not decrypt`);
    }
  }

  /** `prehashed`: `input` is already a SHA-256 digest (RSA-PSS and ECDSA only). */
  sign(input: Buffer, prehashed = false): Buffer {
    switch (this.type) {
      case 'ed25519':
        if (prehashed) throw new KeyOperationError('unsupported', 'Ed25519 signs the message itself, not a digest');
        return cryptoSign(null, input, this.privateKey!);
      case 'ecdsa-p256':
        if (prehashed) return ecdsaSignDigest(this.privateKey!, digestOf(input));
        return cryptoSign('sha256', input, { key: this.privateKey!, dsaEncoding: 'ieee-p1363' });
      case 'rsa-3072':
      case 'rsa-4096':
        if (prehashed) return rsaPssSignDigest(this.privateKey!, this.rsaBytes() * 8, digestOf(input));
        return cryptoSign('sha256', input, {
          key: this.privateKey!,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: PSS_SALT_BYTES,
        });
      default:
        throw new KeyOperationError('unsupported', `a ${this.type} key does not sign`);
    }
  }

  verify(input: Buffer, signature: Buffer, prehashed = false): boolean {
    switch (this.type) {
      case 'ed25519':
        if (prehashed) throw new KeyOperationError('unsupported', 'Ed25519 verifies the message itself, not a digest');
        return cryptoVerify(null, input, this.publicKey!, signature);
      case 'ecdsa-p256':
        if (prehashed) return ecdsaVerifyDigest(this.publicKey!, digestOf(input), signature);
        return cryptoVerify('sha256', input, { key: this.publicKey!, dsaEncoding: 'ieee-p1363' }, signature);
      case 'rsa-3072':
      case 'rsa-4096':
        if (prehashed) return rsaPssVerifyDigest(this.publicKey!, this.rsaBytes() * 8, digestOf(input), signature);
        return cryptoVerify(
          'sha256',
          input,
          { key: this.publicKey!, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_BYTES },
          signature,
        );
      default:
        throw new KeyOperationError('unsupported', `a ${this.type} key does not verify signatures`);
    }
  }

  hmac(input: Buffer): Buffer {
    if (this.type !== 'hmac') throw new KeyOperationError('unsupported', `a ${this.type} key does not compute HMACs`);
    return createHmac('sha256', this.secret).update(input).digest();
  }

  verifyHmac(input: Buffer, mac: Buffer): boolean {
    const expected = this.hmac(input);
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  }

  private rsaBytes(): number {
    return (this.publicKey!.asymmetricKeyDetails!.modulusLength ?? 0) / 8;
  }
}

function digestOf(input: Buffer): Buffer {
  if (input.length !== SHA256_BYTES)
    throw new KeyOperationError('malformed', 'a prehashed input must be a SHA-256 digest (32 bytes)');
  return input;
}

// ---------------------------------------------------------------------------------------------
// Prehashed RSA-PSS: node:crypto only signs messages, so EMSA-PSS (RFC 8017 §9.1) is encoded here
// and the raw RSA operation is done by node:crypto without padding. The result is an ordinary
// RSA-PSS signature: `crypto.verify('sha256', message, {padding: PSS, saltLength: 32})` accepts it.

function mgf1(seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * SHA256_BYTES < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

function pssHash(digest: Buffer, salt: Buffer): Buffer {
  return createHash('sha256').update(Buffer.alloc(8)).update(digest).update(salt).digest();
}

function rsaPssSignDigest(privateKey: KeyObject, modBits: number, digest: Buffer): Buffer {
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(PSS_SALT_BYTES);
  const h = pssHash(digest, salt);
  const db = Buffer.concat([Buffer.alloc(emLen - PSS_SALT_BYTES - SHA256_BYTES - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  // The raw private-key operation m^d mod n (em is shorter than the modulus: emBits = modBits − 1).
  const padded = Buffer.concat([Buffer.alloc(modBits / 8 - emLen), em]);
  return privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded);
}

function rsaPssVerifyDigest(publicKey: KeyObject, modBits: number, digest: Buffer, signature: Buffer): boolean {
  if (signature.length !== modBits / 8) return false;
  let raw: Buffer;
  try {
    raw = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const em = raw.subarray(raw.length - emLen);
  if (raw.length - emLen > 0 && raw.subarray(0, raw.length - emLen).some((b) => b !== 0)) return false;
  if (em[em.length - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - SHA256_BYTES - 1);
  const h = em.subarray(emLen - SHA256_BYTES - 1, emLen - 1);
  if ((maskedDb[0] & ~(0xff >> (8 * emLen - emBits))) !== 0) return false;
  const db = Buffer.from(maskedDb);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const psLen = emLen - SHA256_BYTES - PSS_SALT_BYTES - 2;
  if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 1) return false;
  const salt = db.subarray(db.length - PSS_SALT_BYTES);
  return timingSafeEqual(pssHash(digest, salt), h);
}

// ---------------------------------------------------------------------------------------------
// Prehashed ECDSA P-256 (FIPS 186-5 §6.4 with the digest given): node:crypto only signs messages,
// so the curve arithmetic is done here with BigInt in Jacobian coordinates, and the nonce is
// derived deterministically as in RFC 6979 §3.2 (HMAC-DRBG over the private key and the digest).
// Not constant-time: BigInt arithmetic never is; the message form uses OpenSSL.

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G: [bigint, bigint] = [
  0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
];

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
function invert(a: bigint, m: bigint): bigint {
  let [t, newT, r, newR] = [0n, 1n, m, mod(a, m)];
  while (newR !== 0n) {
    const q = r / newR;
    [t, newT] = [newT, t - q * newT];
    [r, newR] = [newR, r - q * newR];
  }
  return mod(t, m);
}
type Jacobian = [bigint, bigint, bigint];
function double([x, y, z]: Jacobian): Jacobian {
  if (y === 0n || z === 0n) return [0n, 1n, 0n];
  const ysq = mod(y * y, P);
  const s = mod(4n * x * ysq, P);
  const z2 = mod(z * z, P);
  const m = mod(3n * x * x + A * z2 * z2, P);
  const nx = mod(m * m - 2n * s, P);
  const ny = mod(m * (s - nx) - 8n * ysq * ysq, P);
  return [nx, ny, mod(2n * y * z, P)];
}
function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p[2] === 0n) return q;
  if (q[2] === 0n) return p;
  const z1s = mod(p[2] * p[2], P);
  const z2s = mod(q[2] * q[2], P);
  const u1 = mod(p[0] * z2s, P);
  const u2 = mod(q[0] * z1s, P);
  const s1 = mod(p[1] * z2s * q[2], P);
  const s2 = mod(q[1] * z1s * p[2], P);
  if (u1 === u2) return s1 === s2 ? double(p) : [0n, 1n, 0n];
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const h2 = mod(h * h, P);
  const h3 = mod(h * h2, P);
  const u1h2 = mod(u1 * h2, P);
  const nx = mod(r * r - h3 - 2n * u1h2, P);
  const ny = mod(r * (u1h2 - nx) - s1 * h3, P);
  return [nx, ny, mod(h * p[2] * q[2], P)];
}
function multiply(k: bigint, point: [bigint, bigint]): Jacobian {
  let result: Jacobian = [0n, 1n, 0n];
  let addend: Jacobian = [point[0], point[1], 1n];
  while (k > 0n) {
    if (k & 1n) result = add(result, addend);
    addend = double(addend);
    k >>= 1n;
  }
  return result;
}
function affineX([x, , z]: Jacobian): bigint {
  const zi = invert(z, P);
  return mod(x * zi * zi, P);
}
const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString('hex') || '0'}`);
const to32 = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

function ecPrivateScalar(key: KeyObject): bigint {
  const jwk = key.export({ format: 'jwk' });
  return toBig(Buffer.from(jwk.d!, 'base64url'));
}
function ecPublicPoint(key: KeyObject): [bigint, bigint] {
  const jwk = key.export({ format: 'jwk' });
  return [toBig(Buffer.from(jwk.x!, 'base64url')), toBig(Buffer.from(jwk.y!, 'base64url'))];
}

/** RFC 6979 §3.2 nonces for P-256 / SHA-256, one candidate after another. */
function* rfc6979Nonces(d: bigint, digest: Buffer): Generator<bigint> {
  const x = to32(d);
  const h1 = to32(mod(toBig(digest), N));
  let v = Buffer.alloc(32, 1);
  let k = Buffer.alloc(32, 0);
  k = createHmac('sha256', k)
    .update(Buffer.concat([v, Buffer.from([0]), x, h1]))
    .digest();
  v = createHmac('sha256', k).update(v).digest();
  k = createHmac('sha256', k)
    .update(Buffer.concat([v, Buffer.from([1]), x, h1]))
    .digest();
  v = createHmac('sha256', k).update(v).digest();
  for (;;) {
    v = createHmac('sha256', k).update(v).digest();
    const candidate = toBig(v);
    if (candidate >= 1n && candidate < N) yield candidate;
    k = createHmac('sha256', k)
      .update(Buffer.concat([v, Buffer.from([0])]))
      .digest();
    v = createHmac('sha256', k).update(v).digest();
  }
}

function ecdsaSignDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = ecPrivateScalar(privateKey);
  const e = toBig(digest);
  for (const k of rfc6979Nonces(d, digest)) {
    const r = mod(affineX(multiply(k, G)), N);
    if (r === 0n) continue;
    const s = mod(invert(k, N) * (e + r * d), N);
    if (s === 0n) continue;
    return Buffer.concat([to32(r), to32(s)]);
  }
  throw new Error('unreachable');
}

function ecdsaVerifyDigest(publicKey: KeyObject, digest: Buffer, signature: Buffer): boolean {
  if (signature.length !== 64) return false;
  const r = toBig(signature.subarray(0, 32));
  const s = toBig(signature.subarray(32));
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const w = invert(s, N);
  const u1 = mod(toBig(digest) * w, N);
  const u2 = mod(r * w, N);
  const point = add(multiply(u1, G), multiply(u2, ecPublicPoint(publicKey)));
  if (point[2] === 0n) return false;
  return mod(affineX(point), N) === r;
}
