import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AuditService } from '../audit/audit.service';
import { KeyMaterialService } from '../keys/key-material.service';
import { KeyOperationError, type KeyVersionHandle, formatVersioned, parseVersioned } from '../keys/key-primitives';
import { KeyUsageService } from '../keys/key-usage.service';
import { type KeyRow, KeysRepository } from '../keys/keys.repository';
import { DecryptionError, Keyring } from './keyring';

/** Named internal keys Bastion encrypts its own secrets with. */
export const INTERNAL_KEYS = {
  /** TOTP secrets (purpose `totp`). */
  totp: 'bastion-totp',
  /** Every other purpose: webhook secrets, SMTP passwords, ... */
  secrets: 'bastion-secrets',
} as const;

/** The internal key of a purpose. */
export const internalKeyFor = (purpose: string): string =>
  purpose === 'totp' ? INTERNAL_KEYS.totp : INTERNAL_KEYS.secrets;

/** How many envelopes each version of an internal key still protects, per version (`legacy`: pre-key-management). */
export type UsageCounter = (manager: EntityManager) => Promise<Record<string, number>>;

const PURPOSE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Other instances' rotations of internal keys are picked up within this time. */
const POLL_MS = 5000;

interface LoadedKey {
  key: KeyRow;
  handles: Map<number, KeyVersionHandle>;
}

/**
 * Encryption at rest for the rest of Bastion (TOTP secrets, webhook secrets, SMTP passwords, ...),
 * on the named internal keys of key management: `bastion-totp` for purpose `totp`,
 * `bastion-secrets` for every other purpose. Rotating one of those keys (API or automatic) is how
 * these secrets rotate, and `rotate-master-key` rewraps them like every other key.
 *
 * The envelope is a named-key ciphertext, `bastion:v<version>:<base64>` (AES-256-GCM), whose
 * additional authenticated data is `bastion-internal\0<purpose>\0<context>`: pass the id of the
 * row's owner as `context`, so an envelope copied to another user's row, or used for another
 * purpose, does not decrypt. Envelopes written before key management (`v1:<iv>:<tag>:<ct>`, under
 * a key derived from MASTER_KEY) still decrypt, and `needsRewrap` says they should be rewrapped.
 *
 * The API is synchronous: the internal keys' versions are unwrapped into memory at start, and
 * reloaded when this instance changes them or, within 5 seconds, when another instance does.
 */
@Injectable()
export class EncryptionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EncryptionService.name);
  /** One per master key (current, then previous): legacy envelopes were derived from the master key of their time. */
  private readonly legacy: Keyring[];
  private loaded = new Map<string, LoadedKey>();
  private generation = '';
  private timer?: NodeJS.Timeout;
  private polling = false;
  private readonly counters = new Map<string, UsageCounter>();
  private markReady!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    @InjectConfig() config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: KeysRepository,
    private readonly material: KeyMaterialService,
    private readonly usage: KeyUsageService,
    private readonly audit: AuditService,
  ) {
    this.legacy = [config.secrets.masterKey, ...(config.secrets.previousMasterKeys ?? [])].map(
      (material) => new Keyring([{ version: 1, material }], 1),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.material.onApplicationBootstrap();
    await this.ensureInternalKeys();
    await this.reload();
    this.markReady();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Resolves once the internal keys are loaded (start-up work that encrypts awaits it). */
  whenReady(): Promise<void> {
    return this.readyPromise;
  }

  /** The latest version of `bastion-secrets`. */
  get currentVersion(): number {
    return this.currentVersionOf('secrets');
  }

  /** The version new envelopes of `purpose` are sealed under. */
  currentVersionOf(purpose: string): number {
    return this.keyOf(purpose).key.latestVersion;
  }

  encrypt(purpose: string, plaintext: string | Buffer, context = ''): string {
    const loaded = this.keyOf(purpose);
    const version = loaded.key.latestVersion;
    const handle = loaded.handles.get(version)!;
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const envelope = formatVersioned(version, handle.encrypt(bytes, additionalData(purpose, context)));
    this.usage.count(loaded.key.name, version, 'encrypt');
    return envelope;
  }

  /** Throws DecryptionError when the envelope is malformed, tampered, bound to another context, or of an unknown or retired version. */
  decrypt(purpose: string, envelope: string, context = ''): Buffer {
    if (isLegacy(envelope)) return this.openLegacy(purpose, envelope, context);
    const loaded = this.keyOf(purpose);
    let parsed;
    try {
      parsed = parseVersioned(envelope, 'encryption envelope');
    } catch {
      throw new DecryptionError('not an encryption envelope');
    }
    if (parsed.version < loaded.key.minDecryptionVersion) {
      throw new DecryptionError(`key version ${parsed.version} of ${loaded.key.name} is retired`);
    }
    const handle = loaded.handles.get(parsed.version);
    if (!handle) {
      void this.poll(); // another instance may have rotated the key a moment ago
      throw new DecryptionError(`key version ${parsed.version} is not available`);
    }
    try {
      const plaintext = handle.decrypt(parsed.bytes, additionalData(purpose, context));
      this.usage.count(loaded.key.name, parsed.version, 'decrypt');
      return plaintext;
    } catch (err) {
      if (err instanceof KeyOperationError) {
        throw new DecryptionError('the envelope failed authentication (wrong key, purpose or context, or tampered)');
      }
      throw err;
    }
  }

  decryptText(purpose: string, envelope: string, context = ''): string {
    return this.decrypt(purpose, envelope, context).toString('utf8');
  }

  /**
   * Whether the envelope was sealed under an older version than the current one (or before key
   * management). Without `purpose`, compared with the newest of the internal keys: a needless
   * rewrap is harmless, a missed one is not.
   */
  needsRewrap(envelope: string, purpose?: string): boolean {
    if (isLegacy(envelope)) return true;
    let version: number;
    try {
      version = parseVersioned(envelope).version;
    } catch {
      return false;
    }
    const current =
      purpose !== undefined
        ? this.currentVersionOf(purpose)
        : Math.max(...[...this.loaded.values()].map((l) => l.key.latestVersion));
    return version < current;
  }

  /** The same plaintext sealed under the current version. */
  rewrap(purpose: string, envelope: string, context = ''): string {
    return this.encrypt(purpose, this.decrypt(purpose, envelope, context), context);
  }

  /** A feature that stores envelopes tells how many each version of its key protects (shown by GET /security/keys/:name). */
  registerUsage(keyName: string, counter: UsageCounter): void {
    this.counters.set(keyName, counter);
  }

  async usageOf(keyName: string, manager?: EntityManager): Promise<Record<string, number> | null> {
    const counter = this.counters.get(keyName);
    return counter ? counter(manager ?? this.dataSource.manager) : null;
  }

  /** Reloads the internal keys from the database (after a rotation or a configuration change). */
  async reload(): Promise<void> {
    const next = new Map<string, LoadedKey>();
    for (const { key, versions } of await this.repository.internalKeys()) {
      const handles = new Map<number, KeyVersionHandle>();
      for (const row of versions) {
        if (row.version < key.minDecryptionVersion) continue;
        handles.set(row.version, this.material.handle(key, row));
      }
      next.set(key.name, { key, handles });
    }
    this.loaded = next;
    this.generation = await this.repository.internalGeneration();
  }

  private openLegacy(purpose: string, envelope: string, context: string): Buffer {
    let failure: unknown;
    for (const keyring of this.legacy) {
      try {
        return keyring.open(purpose, envelope, context);
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if ((await this.repository.internalGeneration()) !== this.generation) await this.reload();
    } catch (err) {
      this.logger.warn(`could not refresh the internal keys: ${String(err)}`);
    } finally {
      this.polling = false;
    }
  }

  private keyOf(purpose: string): LoadedKey {
    if (!PURPOSE.test(purpose)) throw new Error(`"${purpose}" is not a valid encryption purpose`);
    const loaded = this.loaded.get(internalKeyFor(purpose));
    if (!loaded)
      throw new Error('the internal keys are not loaded yet (EncryptionService used before start-up completed)');
    return loaded;
  }

  private async ensureInternalKeys(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.repository.lockInternalKeyCreation(manager);
      for (const name of Object.values(INTERNAL_KEYS)) {
        if (await this.repository.findByName(name, manager)) continue;
        const key = await this.repository.insertKey(manager, {
          name,
          type: 'aes256-gcm',
          internal: true,
          description: 'Internal: encrypts Bastion’s own secrets.',
          deletionAllowed: false,
          exportable: false,
          autoRotatePeriodSeconds: null,
          allowedOperations: ['encrypt', 'decrypt', 'rewrap'],
          createdBy: null,
        });
        await this.material.addVersion(manager, key, 1);
        await this.audit.record(manager, {
          action: 'key.created',
          targetType: 'key',
          targetId: key.id,
          details: { name, type: key.type, internal: true },
        });
      }
    });
  }
}

function additionalData(purpose: string, context: string): Buffer {
  return Buffer.from(`bastion-internal\u0000${purpose}\u0000${context}`, 'utf8');
}

/** Envelopes written before key management: `v<n>:<iv>:<tag>:<ciphertext>`. */
function isLegacy(envelope: string): boolean {
  return /^v[0-9]+:/.test(envelope);
}

/** Provider list for a module. */
export const encryptionProviders = [EncryptionService];
