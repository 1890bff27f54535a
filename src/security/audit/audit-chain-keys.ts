import { hkdfSync } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { APP_CONFIG } from '../../common/config/config.module';
import type { ChainKey } from './audit-chain';

/** Nest token of the {@link AuditChainKeySource}. */
export const AUDIT_CHAIN_KEY_SOURCE = Symbol('AUDIT_CHAIN_KEY_SOURCE');

/**
 * Where the audit chain's keys come from: root material per version, and the version new
 * entries are sealed under. Today version 1 is the master key; the key management feature can
 * provide a named internal key instead by overriding this one provider.
 */
export interface AuditChainKeySource {
  readonly current: number;
  /** Root material of a version (at least 32 secret bytes), or null when this instance does not hold it. */
  material(version: number): Buffer | null;
}

/** The chain key of a version: HKDF-SHA256(material, salt `bastion`, info `bastion/audit-chain/v<version>`), 32 bytes. */
export function deriveAuditChainKey(material: Buffer, version: number): Buffer {
  return Buffer.from(hkdfSync('sha256', material, 'bastion', `bastion/audit-chain/v${version}`, 32));
}

/** Version 1 is `MASTER_KEY`. */
export function auditChainKeySourceFromConfig(config: AppConfig): AuditChainKeySource {
  return { current: 1, material: (version) => (version === 1 ? config.secrets.masterKey : null) };
}

/**
 * The HMAC keys of the audit chain, derived once per version from the {@link AuditChainKeySource}.
 * Never logged, never returned.
 */
@Injectable()
export class AuditChainKeys {
  private readonly derived = new Map<number, Buffer>();

  constructor(@Inject(AUDIT_CHAIN_KEY_SOURCE) private readonly source: AuditChainKeySource) {}

  /** The key new entries are sealed under. */
  get current(): ChainKey {
    const key = this.key(this.source.current);
    if (!key) throw new Error(`audit chain key version ${this.source.current} has no material`);
    return { version: this.source.current, key };
  }

  /** The key of a version, or null when this instance does not hold it. */
  key(version: number): Buffer | null {
    let key = this.derived.get(version);
    if (!key) {
      const material = version >= 1 ? this.source.material(version) : null;
      if (!material) return null;
      key = deriveAuditChainKey(material, version);
      this.derived.set(version, key);
    }
    return key;
  }
}

/** Provider pair for the audit module: the key source from the configuration, and the keys. */
export const auditChainKeyProviders = [
  { provide: AUDIT_CHAIN_KEY_SOURCE, useFactory: auditChainKeySourceFromConfig, inject: [APP_CONFIG] },
  AuditChainKeys,
];
