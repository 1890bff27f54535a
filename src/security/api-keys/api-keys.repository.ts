import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { GROUP_PERMISSIONS_OF_U } from '../../users/groups/groups.repository';
import { MFA_ENABLED_OF_U } from '../mfa/mfa.repository';
import { ApiKey, type RateTier } from './api-key.entity';

/** A key as `authenticate` needs it, with its owner's live state. */
export interface KeyWithOwner {
  id: string;
  user_id: string;
  scopes: string[];
  allowed_cidrs: string[];
  rate_tier: RateTier;
  usable: boolean;
  revoked: boolean;
  last_used_at: Date | null;
  last_used_ip: string | null;
  email: string;
  status: string;
  roles: string[];
  group_permissions: string[];
  mfa_enabled: boolean;
}

/** What a revocation reports back: enough to tell keys apart, never the secret. */
export interface RevokedKey {
  id: string;
  name: string;
  prefix: string;
}

/** The SQL of API keys. */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  insert(key: Partial<ApiKey>, manager: EntityManager): Promise<ApiKey> {
    const repo = manager.getRepository(ApiKey);
    return repo.save(repo.create(key));
  }

  findById(id: string, manager?: EntityManager): Promise<ApiKey | null> {
    return this.m(manager).getRepository(ApiKey).findOneBy({ id });
  }

  /** Newest first, keyset on (created_at, id); `limit + 1` rows so the caller can tell if more follow. */
  listPage(owner: string | undefined, after: { k: string; id: string } | undefined, limit: number): Promise<ApiKey[]> {
    const qb = this.dataSource.getRepository(ApiKey).createQueryBuilder('k');
    if (owner) qb.andWhere('k.user_id = :owner', { owner });
    if (after) qb.andWhere('(k.created_at, k.id) < (:k, :id)', { k: after.k, id: after.id });
    return qb
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }

  async markRevoked(id: string, by: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(ApiKey).update({ id }, { revokedAt: new Date(), revokedBy: by });
  }

  /** Revokes every live key of a user; returns the keys it revoked. */
  async revokeAllOf(userId: string, by: string | null, manager: EntityManager): Promise<RevokedKey[]> {
    const rows = await manager.query<RevokedKey[]>(
      `UPDATE api_keys SET revoked_at = now(), revoked_by = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        RETURNING id, name, prefix`,
      [userId, by],
    );
    // pg returns [rows, count] for UPDATE … RETURNING through TypeORM's query(); PGlite the rows.
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as RevokedKey[];
    return list.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** The key of a hash with its owner's status, roles, group permissions and MFA state, in one query. */
  async findByHashWithOwner(keyHash: string): Promise<KeyWithOwner | undefined> {
    return (await this.withOwner('k.key_hash = $1', [keyHash]))[0];
  }

  /** Many keys by id with their owners' live state, in one query (the live gateway's re-checks). */
  findByIdsWithOwner(ids: string[]): Promise<KeyWithOwner[]> {
    return this.withOwner('k.id = ANY($1::uuid[])', [ids]);
  }

  private withOwner(where: string, params: unknown[]): Promise<KeyWithOwner[]> {
    return this.dataSource.query<KeyWithOwner[]>(
      `SELECT k.id, k.user_id, k.scopes, k.allowed_cidrs, k.rate_tier, k.last_used_at, k.last_used_ip,
              (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())) AS usable,
              (k.revoked_at IS NOT NULL) AS revoked,
              u.email, u.status, u.roles,
              ${GROUP_PERMISSIONS_OF_U} AS group_permissions,
              ${MFA_ENABLED_OF_U} AS mfa_enabled
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE ${where}`,
      params,
    );
  }

  async touch(id: string, ip: string | null): Promise<void> {
    await this.dataSource.query('UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1', [id, ip]);
  }
}
