import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { generateMaterial, KeyVersionHandle } from './key-primitives';
import { type KeyRow, type KeyVersionRow, KeysRepository } from './keys.repository';
import { MasterKeyring, MasterKeyUnavailableError, materialBinding } from './master-keyring';

/** The master keyring of a configuration: MASTER_KEY, then MASTER_KEY_PREVIOUS. */
export function masterKeyringFromConfig(config: AppConfig): MasterKeyring {
  return new MasterKeyring(config.secrets.masterKey, config.secrets.previousMasterKeys ?? []);
}

/**
 * Key material: generates new versions and wraps them under the master key in use; unwraps
 * versions on demand and keeps the usable handles in memory (a version's material never changes,
 * so the cache needs no invalidation; it is keyed by the key's id, which a re-created key does
 * not share). Material never leaves this service except as node:crypto key objects.
 */
@Injectable()
export class KeyMaterialService implements OnApplicationBootstrap {
  readonly masterKeyring: MasterKeyring;
  private readonly handles = new Map<string, KeyVersionHandle>();

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly repository: KeysRepository,
  ) {
    this.masterKeyring = masterKeyringFromConfig(config);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.repository.ensureMasterKid(this.masterKeyring.currentKid);
  }

  /** Creates version `version` of `key` inside the caller's transaction. */
  async addVersion(manager: EntityManager, key: Pick<KeyRow, 'id' | 'type' | 'name'>, version: number): Promise<void> {
    const kid = (await this.repository.masterKidForWrap(manager)) ?? this.masterKeyring.currentKid;
    if (!this.masterKeyring.has(kid)) {
      throw new AppException(
        ErrorCode.MasterKeyUnavailable,
        `New key material must be wrapped by master key ${kid}, which this instance does not hold: restart it with that MASTER_KEY.`,
      );
    }
    const { material, publicKeyPem } = await generateMaterial(key.type);
    const materialWrapped = this.masterKeyring.wrap(material, materialBinding(key.id, version), kid);
    await this.repository.insertVersion(manager, {
      keyId: key.id,
      version,
      materialWrapped,
      masterKid: kid,
      publicKeyPem,
    });
    this.handles.set(`${key.id}/${version}`, new KeyVersionHandle(key.type, version, material));
    material.fill(0);
  }

  /** The usable form of a stored version. */
  handle(key: Pick<KeyRow, 'id' | 'type'>, row: KeyVersionRow): KeyVersionHandle {
    const id = `${key.id}/${row.version}`;
    let handle = this.handles.get(id);
    if (!handle) {
      let material: Buffer;
      try {
        material = this.masterKeyring.unwrap(row.materialWrapped, materialBinding(key.id, row.version));
      } catch (err) {
        if (err instanceof MasterKeyUnavailableError) {
          throw new AppException(ErrorCode.MasterKeyUnavailable, `${err.message}.`);
        }
        throw err;
      }
      handle = new KeyVersionHandle(key.type, row.version, material);
      material.fill(0);
      this.handles.set(id, handle);
    }
    return handle;
  }

  /** A cached handle, or undefined (callers then load the version row). */
  cached(keyId: string, version: number): KeyVersionHandle | undefined {
    return this.handles.get(`${keyId}/${version}`);
  }

  forget(keyId: string): void {
    for (const id of this.handles.keys()) if (id.startsWith(`${keyId}/`)) this.handles.delete(id);
  }
}
