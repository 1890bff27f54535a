import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption under versioned keys, with no Nest or database inside.
 *
 * Every key is derived with HKDF-SHA256 from the root material of a key version and the purpose
 * of the data (`bastion/<purpose>/v<version>`), so one purpose's key never decrypts another's.
 * Ciphertexts are AES-256-GCM envelopes that name the version they were sealed under:
 *
 *     v<version>:<iv base64url>:<tag base64url>:<ciphertext base64url>
 *
 * so a keyring holding the current version and the older ones decrypts everything ever written,
 * while new data goes under the current version only (rotation without a flag day).
 */

/** Root material of one key version (at least 32 bytes of secret randomness). */
export interface KeyVersion {
  version: number;
  material: Buffer;
}

/** Why an envelope could not be opened. The message never contains key material or plaintext. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_SALT = 'bastion';
const PURPOSE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ENVELOPE = /^v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/;

/** The parts of an envelope, not yet authenticated. */
export interface ParsedEnvelope {
  version: number;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export function parseEnvelope(envelope: string): ParsedEnvelope | null {
  const m = ENVELOPE.exec(envelope);
  if (!m) return null;
  const iv = Buffer.from(m[2], 'base64url');
  const tag = Buffer.from(m[3], 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  return { version: Number(m[1]), iv, tag, ciphertext: Buffer.from(m[4], 'base64url') };
}

/**
 * The additional authenticated data: the purpose, the version and the caller's context (for
 * instance the id of the user a secret belongs to), so an envelope copied to another row, another
 * purpose or another version header fails authentication.
 */
function additionalData(purpose: string, version: number, context: string): Buffer {
  return Buffer.from(`bastion\u0000${purpose}\u0000v${version}\u0000${context}`, 'utf8');
}

export class Keyring {
  private readonly materials = new Map<number, Buffer>();
  private readonly derived = new Map<string, Buffer>();

  /**
   * @param versions every version that may still be needed to decrypt, the current one included
   * @param current the version new envelopes are sealed under
   */
  constructor(
    versions: readonly KeyVersion[],
    readonly current: number,
  ) {
    for (const { version, material } of versions) {
      if (!Number.isSafeInteger(version) || version < 1)
        throw new Error(`key version ${version} is not a positive integer`);
      if (material.length < KEY_BYTES) throw new Error(`key version ${version} has less than ${KEY_BYTES} bytes`);
      if (this.materials.has(version)) throw new Error(`key version ${version} is listed twice`);
      this.materials.set(version, Buffer.from(material));
    }
    if (!this.materials.has(current)) throw new Error(`the current key version ${current} is not in the keyring`);
  }

  /** Versions this keyring can decrypt, ascending. */
  get versions(): number[] {
    return [...this.materials.keys()].sort((a, b) => a - b);
  }

  has(version: number): boolean {
    return this.materials.has(version);
  }

  /** Seals `plaintext` under the current version; a fresh random IV every time. */
  seal(purpose: string, plaintext: Buffer, context = ''): string {
    const version = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(purpose, version), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(purpose, version, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `v${version}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
  }

  /** Opens an envelope sealed under any version of the keyring; throws DecryptionError otherwise. */
  open(purpose: string, envelope: string, context = ''): Buffer {
    const parsed = parseEnvelope(envelope);
    if (!parsed) throw new DecryptionError('not an encryption envelope');
    if (!this.materials.has(parsed.version))
      throw new DecryptionError(`key version ${parsed.version} is not available`);
    const decipher = createDecipheriv('aes-256-gcm', this.key(purpose, parsed.version), parsed.iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(additionalData(purpose, parsed.version, context));
    decipher.setAuthTag(parsed.tag);
    try {
      return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
    } catch {
      throw new DecryptionError('the envelope failed authentication (wrong key, purpose or context, or tampered)');
    }
  }

  /** The version an envelope names, or null when it is not an envelope. */
  versionOf(envelope: string): number | null {
    return parseEnvelope(envelope)?.version ?? null;
  }

  /** The AES key of a purpose and version: HKDF-SHA256(material, salt, `bastion/<purpose>/v<version>`). */
  private key(purpose: string, version: number): Buffer {
    if (!PURPOSE.test(purpose)) throw new Error(`"${purpose}" is not a valid encryption purpose`);
    const id = `${purpose}\u0000${version}`;
    let key = this.derived.get(id);
    if (!key) {
      const material = this.materials.get(version);
      if (!material) throw new DecryptionError(`key version ${version} is not available`);
      key = Buffer.from(hkdfSync('sha256', material, HKDF_SALT, `bastion/${purpose}/v${version}`, KEY_BYTES));
      this.derived.set(id, key);
    }
    return key;
  }
}
