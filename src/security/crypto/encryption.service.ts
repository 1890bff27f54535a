import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { APP_CONFIG } from '../../common/config/config.module';
import { Keyring, type KeyVersion } from './keyring';

/** Nest token of the key versions the EncryptionService uses; see {@link keyVersionsFromConfig}. */
export const ENCRYPTION_KEYS = Symbol('ENCRYPTION_KEYS');

export interface EncryptionKeys {
  versions: KeyVersion[];
  current: number;
}

/**
 * Key versions from the configuration: today the master key is version 1. Rotating means adding
 * a new version as current and keeping the older ones listed until their data has been rewrapped.
 */
export function keyVersionsFromConfig(config: AppConfig): EncryptionKeys {
  return { versions: [{ version: 1, material: config.secrets.masterKey }], current: 1 };
}

/**
 * Encryption at rest for the rest of Bastion (TOTP secrets today; named keys later): AES-256-GCM
 * under a key derived per purpose and per version from the master key. The envelope it returns
 * names its key version, so data written under an older version still decrypts after a rotation;
 * `needsRewrap` and `rewrap` move it to the current version.
 *
 * `context` is bound to the ciphertext as additional authenticated data: pass the id of the row's
 * owner, so an envelope copied to another user's row does not decrypt.
 */
@Injectable()
export class EncryptionService {
  private readonly keyring: Keyring;

  constructor(@Inject(ENCRYPTION_KEYS) keys: EncryptionKeys) {
    this.keyring = new Keyring(keys.versions, keys.current);
  }

  get currentVersion(): number {
    return this.keyring.current;
  }

  encrypt(purpose: string, plaintext: string | Buffer, context = ''): string {
    return this.keyring.seal(
      purpose,
      typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext,
      context,
    );
  }

  /** Throws DecryptionError when the envelope is malformed, tampered, bound to another context or of an unknown version. */
  decrypt(purpose: string, envelope: string, context = ''): Buffer {
    return this.keyring.open(purpose, envelope, context);
  }

  decryptText(purpose: string, envelope: string, context = ''): string {
    return this.decrypt(purpose, envelope, context).toString('utf8');
  }

  /** Whether the envelope was sealed under an older version than the current one. */
  needsRewrap(envelope: string): boolean {
    const version = this.keyring.versionOf(envelope);
    return version !== null && version !== this.keyring.current;
  }

  /** The same plaintext sealed under the current version. */
  rewrap(purpose: string, envelope: string, context = ''): string {
    return this.keyring.seal(purpose, this.keyring.open(purpose, envelope, context), context);
  }
}

/** Provider pair for a module: the keys from the configuration, and the service. */
export const encryptionProviders = [
  { provide: ENCRYPTION_KEYS, useFactory: keyVersionsFromConfig, inject: [APP_CONFIG] },
  EncryptionService,
];
