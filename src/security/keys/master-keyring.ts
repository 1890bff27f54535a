import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The key-encryption keys (KEK) that wrap named keys' material at rest, derived from master keys.
 *
 * Each master key has an id, `kid` (16 hex characters of HMAC-SHA256(master, "bastion/master-key-id"):
 * it names the key without revealing it), and a KEK = HKDF-SHA256(master, salt "bastion", info
 * "bastion/kek", 32 bytes). Wrapped material is `<kid>:<base64url(nonce ‖ AES-256-GCM ciphertext ‖ tag)>`
 * with the key's id and version as additional data, so a wrapped blob cannot be moved to another
 * key or version. The keyring holds the current master key (MASTER_KEY) and older ones
 * (MASTER_KEY_PREVIOUS), so material wrapped by either opens while `rotate-master-key` rewraps it.
 */
export class MasterKeyring {
  private readonly keks = new Map<string, Buffer>();
  readonly currentKid: string;

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.currentKid = this.add(current);
    for (const key of previous) this.add(key);
  }

  static kidOf(master: Buffer): string {
    return createHmac('sha256', master).update('bastion/master-key-id').digest('hex').slice(0, 16);
  }

  /** Every master key id this keyring can unwrap, the current one first. */
  get kids(): string[] {
    return [...this.keks.keys()];
  }

  has(kid: string): boolean {
    return this.keks.has(kid);
  }

  /** Wraps under the master key `kid` (the current one by default). */
  wrap(material: Buffer, binding: string, kid = this.currentKid): string {
    const kek = this.keks.get(kid);
    if (!kek) throw new MasterKeyUnavailableError(kid);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek, nonce);
    cipher.setAAD(Buffer.from(`bastion-key\u0000${binding}`, 'utf8'));
    const body = Buffer.concat([cipher.update(material), cipher.final()]);
    return `${kid}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  unwrap(wrapped: string, binding: string): Buffer {
    const [kid, payload] = wrapped.split(':');
    const kek = this.keks.get(kid);
    if (!kek || payload === undefined) throw new MasterKeyUnavailableError(kid);
    const bytes = Buffer.from(payload, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', kek, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(`bastion-key\u0000${binding}`, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
    } catch {
      throw new Error(`key material ${binding} failed authentication under master key ${kid}`);
    }
  }

  static kidOfWrapped(wrapped: string): string {
    return wrapped.split(':')[0];
  }

  private add(master: Buffer): string {
    if (master.length < 32) throw new Error('a master key must have at least 32 bytes');
    const kid = MasterKeyring.kidOf(master);
    if (!this.keks.has(kid)) {
      this.keks.set(kid, Buffer.from(hkdfSync('sha256', master, 'bastion', 'bastion/kek', 32)));
    }
    return kid;
  }
}

/** Material is wrapped by a master key this process was not given. */
export class MasterKeyUnavailableError extends Error {
  constructor(readonly kid: string) {
    super(
      `key material is wrapped by master key ${kid}, which this process does not hold: set MASTER_KEY (or MASTER_KEY_PREVIOUS) to it`,
    );
    this.name = 'MasterKeyUnavailableError';
  }
}

/** `binding` of a key version's wrapped material: the key's id and the version. */
export const materialBinding = (keyId: string, version: number): string => `${keyId}/v${version}`;
