import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { returned } from '../../common/database/returned';
import type { KeysetPosition } from '../../common/pagination/pagination';
import type { KeyOperation, KeyType } from './key-primitives';

export interface KeyRow {
  id: string;
  name: string;
  type: KeyType;
  internal: boolean;
  description: string;
  latestVersion: number;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  deletionAllowed: boolean;
  exportable: boolean;
  autoRotatePeriodSeconds: number | null;
  allowedOperations: KeyOperation[];
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  rotatedAt: Date;
}

export interface KeyVersionRow {
  keyId: string;
  version: number;
  materialWrapped: string;
  masterKid: string;
  publicKeyPem: string | null;
  createdAt: Date;
}

export interface KeyGrant {
  subjectType: 'role' | 'group';
  subject: string;
}

interface RawKey {
  id: string;
  name: string;
  type: KeyType;
  internal: boolean;
  description: string;
  latest_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  deletion_allowed: boolean;
  exportable: boolean;
  auto_rotate_period_seconds: number | null;
  allowed_operations: KeyOperation[] | string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  rotated_at: Date;
}

interface RawVersion {
  key_id: string;
  version: number;
  material_wrapped: string;
  master_kid: string;
  public_key_pem: string | null;
  created_at: Date;
}

/** text[] arrives as an array from pg, and as `{a,b}` text from some drivers' paths: accept both. */
function textArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}

function mapKey(r: RawKey): KeyRow {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    internal: r.internal,
    description: r.description,
    latestVersion: Number(r.latest_version),
    minDecryptionVersion: Number(r.min_decryption_version),
    minEncryptionVersion: Number(r.min_encryption_version),
    deletionAllowed: r.deletion_allowed,
    exportable: r.exportable,
    autoRotatePeriodSeconds: r.auto_rotate_period_seconds === null ? null : Number(r.auto_rotate_period_seconds),
    allowedOperations: textArray(r.allowed_operations) as KeyOperation[],
    createdBy: r.created_by,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    rotatedAt: new Date(r.rotated_at),
  };
}

function mapVersion(r: RawVersion): KeyVersionRow {
  return {
    keyId: r.key_id,
    version: Number(r.version),
    materialWrapped: r.material_wrapped,
    masterKid: r.master_kid,
    publicKeyPem: r.public_key_pem,
    createdAt: new Date(r.created_at),
  };
}

export interface NewKey {
  name: string;
  type: KeyType;
  internal: boolean;
  description: string;
  deletionAllowed: boolean;
  exportable: boolean;
  autoRotatePeriodSeconds: number | null;
  allowedOperations: KeyOperation[];
  createdBy: string | null;
}

export type KeyConfigPatch = Partial<
  Pick<
    KeyRow,
    | 'minDecryptionVersion'
    | 'minEncryptionVersion'
    | 'deletionAllowed'
    | 'exportable'
    | 'autoRotatePeriodSeconds'
    | 'allowedOperations'
    | 'description'
  >
>;

const PATCH_COLUMNS: Record<keyof KeyConfigPatch, string> = {
  minDecryptionVersion: 'min_decryption_version',
  minEncryptionVersion: 'min_encryption_version',
  deletionAllowed: 'deletion_allowed',
  exportable: 'exportable',
  autoRotatePeriodSeconds: 'auto_rotate_period_seconds',
  allowedOperations: 'allowed_operations',
  description: 'description',
};

/** Every statement on keys, key_versions, key_grants and key_master. */
@Injectable()
export class KeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  async insertKey(manager: EntityManager, key: NewKey): Promise<KeyRow> {
    const [row] = await manager.query<RawKey[]>(
      `INSERT INTO keys (name, type, internal, description, deletion_allowed, exportable, auto_rotate_period_seconds,
                         allowed_operations, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9) RETURNING *`,
      [
        key.name,
        key.type,
        key.internal,
        key.description,
        key.deletionAllowed,
        key.exportable,
        key.autoRotatePeriodSeconds,
        key.allowedOperations,
        key.createdBy,
      ],
    );
    return mapKey(row);
  }

  async insertVersion(
    manager: EntityManager,
    v: { keyId: string; version: number; materialWrapped: string; masterKid: string; publicKeyPem: string | null },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO key_versions (key_id, version, material_wrapped, master_kid, public_key_pem) VALUES ($1, $2, $3, $4, $5)`,
      [v.keyId, v.version, v.materialWrapped, v.masterKid, v.publicKeyPem],
    );
  }

  async findByName(name: string, manager?: EntityManager): Promise<KeyRow | null> {
    const [row] = await this.m(manager).query<RawKey[]>('SELECT * FROM keys WHERE name = $1', [name]);
    return row ? mapKey(row) : null;
  }

  async lockByName(manager: EntityManager, name: string): Promise<KeyRow | null> {
    const [row] = await manager.query<RawKey[]>('SELECT * FROM keys WHERE name = $1 FOR UPDATE', [name]);
    return row ? mapKey(row) : null;
  }

  /** A key and whether the caller's roles or groups hold a grant on it, in one query. */
  async findForUse(
    name: string,
    roles: readonly string[],
    userId: string,
  ): Promise<{ key: KeyRow; granted: boolean } | null> {
    const [row] = await this.m().query<(RawKey & { granted: boolean })[]>(
      `SELECT k.*, EXISTS (
                SELECT 1 FROM key_grants g
                 WHERE g.key_id = k.id
                   AND ((g.subject_type = 'role' AND g.subject = ANY($2::text[]))
                     OR (g.subject_type = 'group'
                         AND g.subject IN (SELECT gm.group_id::text FROM group_members gm WHERE gm.user_id = $3)))
              ) AS granted
         FROM keys k WHERE k.name = $1`,
      [name, roles, userId],
    );
    return row ? { key: mapKey(row), granted: row.granted } : null;
  }

  async list(limit: number, after?: KeysetPosition): Promise<KeyRow[]> {
    const rows = await this.m().query<RawKey[]>(
      `SELECT * FROM keys WHERE ($1::text IS NULL OR name > $1) ORDER BY name LIMIT $2`,
      [after?.k ?? null, limit + 1],
    );
    return rows.map(mapKey);
  }

  async versions(keyId: string, manager?: EntityManager): Promise<KeyVersionRow[]> {
    const rows = await this.m(manager).query<RawVersion[]>(
      'SELECT * FROM key_versions WHERE key_id = $1 ORDER BY version',
      [keyId],
    );
    return rows.map(mapVersion);
  }

  async version(keyId: string, version: number, manager?: EntityManager): Promise<KeyVersionRow | null> {
    const [row] = await this.m(manager).query<RawVersion[]>(
      'SELECT * FROM key_versions WHERE key_id = $1 AND version = $2',
      [keyId, version],
    );
    return row ? mapVersion(row) : null;
  }

  async updateConfig(manager: EntityManager, keyId: string, patch: KeyConfigPatch): Promise<KeyRow> {
    const sets: string[] = [];
    const params: unknown[] = [keyId];
    for (const [field, column] of Object.entries(PATCH_COLUMNS) as [keyof KeyConfigPatch, string][]) {
      if (patch[field] === undefined) continue;
      params.push(patch[field]);
      sets.push(`${column} = $${params.length}${field === 'allowedOperations' ? '::text[]' : ''}`);
    }
    const [row] = returned(
      await manager.query<RawKey[]>(
        `UPDATE keys SET ${[...sets, 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`,
        params,
      ),
    );
    return mapKey(row);
  }

  async setLatestVersion(manager: EntityManager, keyId: string, version: number): Promise<KeyRow> {
    const [row] = returned(
      await manager.query<RawKey[]>(
        `UPDATE keys SET latest_version = $2, rotated_at = now(), updated_at = now() WHERE id = $1 RETURNING *`,
        [keyId, version],
      ),
    );
    return mapKey(row);
  }

  async deleteKey(manager: EntityManager, keyId: string): Promise<void> {
    await manager.query('DELETE FROM keys WHERE id = $1', [keyId]);
  }

  async grants(keyId: string, manager?: EntityManager): Promise<KeyGrant[]> {
    const rows = await this.m(manager).query<{ subject_type: 'role' | 'group'; subject: string }[]>(
      'SELECT subject_type, subject FROM key_grants WHERE key_id = $1 ORDER BY subject_type, subject',
      [keyId],
    );
    return rows.map((r) => ({ subjectType: r.subject_type, subject: r.subject }));
  }

  async replaceGrants(manager: EntityManager, keyId: string, grants: readonly KeyGrant[]): Promise<void> {
    await manager.query('DELETE FROM key_grants WHERE key_id = $1', [keyId]);
    if (grants.length === 0) return;
    await manager.query(
      `INSERT INTO key_grants (key_id, subject_type, subject)
       SELECT $1, t, s FROM unnest($2::text[], $3::text[]) AS u(t, s)`,
      [keyId, grants.map((g) => g.subjectType), grants.map((g) => g.subject)],
    );
  }

  /** Group ids that exist among `ids`. */
  async existingGroups(ids: readonly string[], manager?: EntityManager): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.m(manager).query<{ id: string }[]>(
      'SELECT id::text AS id FROM groups WHERE id::text = ANY($1::text[])',
      [ids],
    );
    return rows.map((r) => r.id);
  }

  /** Internal keys and all their versions, for the in-memory keyring of EncryptionService. */
  async internalKeys(manager?: EntityManager): Promise<{ key: KeyRow; versions: KeyVersionRow[] }[]> {
    const keys = (await this.m(manager).query<RawKey[]>('SELECT * FROM keys WHERE internal ORDER BY name')).map(mapKey);
    const result: { key: KeyRow; versions: KeyVersionRow[] }[] = [];
    for (const key of keys) result.push({ key, versions: await this.versions(key.id, manager) });
    return result;
  }

  /** A cheap fingerprint of the internal keys' state: it changes whenever one is rotated or reconfigured. */
  async internalGeneration(): Promise<string> {
    const [row] = await this.m().query<{ g: string | null }[]>(
      `SELECT string_agg(name || ':' || latest_version || ':' || min_decryption_version || ':' || min_encryption_version, ',' ORDER BY name) AS g
         FROM keys WHERE internal`,
    );
    return row?.g ?? '';
  }

  /** Serialises the creation of internal keys across instances starting together (transaction-scoped). */
  async lockInternalKeyCreation(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock(7238163600)');
  }

  /** The singleton lock of automatic rotation: false when another instance is running it. */
  async tryLockAutoRotation(manager: EntityManager): Promise<boolean> {
    const [row] = await manager.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock(7238163601) AS locked');
    return row.locked;
  }

  /** Keys whose automatic rotation is due, locked and skipped if another instance holds them. */
  async lockDueForRotation(manager: EntityManager, now: Date): Promise<KeyRow[]> {
    const rows = await manager.query<RawKey[]>(
      `SELECT * FROM keys
        WHERE auto_rotate_period_seconds IS NOT NULL
          AND rotated_at + make_interval(secs => auto_rotate_period_seconds) <= $1
        ORDER BY name FOR UPDATE SKIP LOCKED`,
      [now],
    );
    return rows.map(mapKey);
  }

  // ---- the master key -------------------------------------------------------------------------

  /** The master key id new material is wrapped under; set by the first instance, moved by rotate-master-key. */
  async ensureMasterKid(kid: string): Promise<string> {
    await this.m().query('INSERT INTO key_master (id, kid) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [kid]);
    const [row] = await this.m().query<{ kid: string }[]>('SELECT kid FROM key_master WHERE id = 1');
    return row.kid;
  }

  /** Read under a shared lock, so a concurrent master-key rotation waits for this wrap (and the other way round). */
  async masterKidForWrap(manager: EntityManager): Promise<string | null> {
    const [row] = await manager.query<{ kid: string }[]>('SELECT kid FROM key_master WHERE id = 1 FOR SHARE');
    return row?.kid ?? null;
  }

  async lockMasterKid(manager: EntityManager): Promise<string | null> {
    const [row] = await manager.query<{ kid: string }[]>('SELECT kid FROM key_master WHERE id = 1 FOR UPDATE');
    return row?.kid ?? null;
  }

  async setMasterKid(manager: EntityManager, kid: string): Promise<void> {
    await manager.query(
      `INSERT INTO key_master (id, kid, rotated_at) VALUES (1, $1, now())
       ON CONFLICT (id) DO UPDATE SET kid = EXCLUDED.kid, rotated_at = now()`,
      [kid],
    );
  }

  async lockAllVersions(manager: EntityManager): Promise<KeyVersionRow[]> {
    const rows = await manager.query<RawVersion[]>('SELECT * FROM key_versions ORDER BY key_id, version FOR UPDATE');
    return rows.map(mapVersion);
  }

  async rewrapVersion(
    manager: EntityManager,
    keyId: string,
    version: number,
    materialWrapped: string,
    masterKid: string,
  ): Promise<void> {
    await manager.query(
      'UPDATE key_versions SET material_wrapped = $3, master_kid = $4 WHERE key_id = $1 AND version = $2',
      [keyId, version, materialWrapped, masterKid],
    );
  }

  async countByMasterKid(manager?: EntityManager): Promise<Record<string, number>> {
    const rows = await this.m(manager).query<{ master_kid: string; n: string }[]>(
      'SELECT master_kid, count(*) AS n FROM key_versions GROUP BY master_kid',
    );
    return Object.fromEntries(rows.map((r) => [r.master_kid, Number(r.n)]));
  }
}
