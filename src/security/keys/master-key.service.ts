import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { SYSTEM_ACTOR } from '../audit/audit-record';
import { KeyMaterialService } from './key-material.service';
import { KeysRepository } from './keys.repository';
import { MasterKeyUnavailableError, materialBinding } from './master-keyring';

export interface MasterKeyRotation {
  /** The master key id everything is wrapped by now. */
  masterKeyId: string;
  /** Key versions rewrapped from an older master key. */
  rewrapped: number;
  /** Master key ids that wrapped something before (now unused). */
  previous: string[];
}

/**
 * Master-key rotation (`npm run cli -- rotate-master-key`): in one transaction, every key version
 * not wrapped by the current MASTER_KEY is unwrapped with the former key (MASTER_KEY_PREVIOUS) and
 * wrapped again, and the current key becomes the one every instance must wrap new material under.
 * Running instances keep working throughout: they hold the unwrapped versions in memory, and
 * wrapping waits on the row lock the rotation holds.
 */
@Injectable()
export class MasterKeyService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: KeysRepository,
    private readonly material: KeyMaterialService,
    private readonly audit: AuditService,
  ) {}

  async rotate(): Promise<MasterKeyRotation> {
    const ring = this.material.masterKeyring;
    return this.dataSource.transaction(async (manager) => {
      const before = await this.repository.lockMasterKid(manager);
      const versions = await this.repository.lockAllVersions(manager);
      const unknown = [...new Set(versions.map((v) => v.masterKid).filter((kid) => !ring.has(kid)))];
      if (unknown.length > 0) {
        throw new MasterKeyUnavailableError(unknown.join(', '));
      }
      const previous = new Set<string>();
      let rewrapped = 0;
      for (const v of versions) {
        if (v.masterKid === ring.currentKid) continue;
        previous.add(v.masterKid);
        const binding = materialBinding(v.keyId, v.version);
        const material = ring.unwrap(v.materialWrapped, binding);
        await this.repository.rewrapVersion(manager, v.keyId, v.version, ring.wrap(material, binding), ring.currentKid);
        material.fill(0);
        rewrapped++;
      }
      await this.repository.setMasterKid(manager, ring.currentKid);
      await this.audit.record(manager, {
        action: 'master_key.rotated',
        targetType: 'master_key',
        targetId: ring.currentKid,
        actor: SYSTEM_ACTOR,
        details: { from: before, to: ring.currentKid, rewrapped, previous: [...previous] },
      });
      return { masterKeyId: ring.currentKid, rewrapped, previous: [...previous] };
    });
  }
}
