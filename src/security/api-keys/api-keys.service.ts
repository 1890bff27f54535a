import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { ActivityService } from '../../users/services/activity.service';
import { GROUP_PERMISSIONS_OF_U } from '../../users/services/groups.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CidrSet, normalizeCidr } from '../../common/net/cidr';
import { isPermission, type Permission } from '../rbac/permissions';
import { isRole, permissionsForRoles } from '../rbac/roles';
import { ApiKey, type RateTier } from './api-key.entity';

/** `bst_` + 32 random bytes (base64url): recognisable in logs and secret scanners, 256 bits of entropy. */
export const API_KEY_PREFIX = 'bst_';
const KEY_SHAPE = /^bst_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12;
const TOUCH_INTERVAL_MS = 60_000;

export interface CreateApiKeyInput {
  name: string;
  scopes: Permission[];
  expiresAt?: Date | null;
  allowedCidrs?: string[];
  rateTier?: RateTier;
}

export interface ApiKeyPrincipal extends Principal {
  apiKeyId: string;
  rateTier: RateTier;
}

const hashKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

const invalidKey = (): AppException =>
  new AppException(ErrorCode.Unauthenticated, 'The API key is invalid, expired or revoked.', {
    headers: { 'WWW-Authenticate': 'ApiKey header="X-API-Key"' },
  });

/**
 * API keys for integrators. A key can do only what its scopes AND its owner's current
 * permissions both allow; it stops working at once when revoked, expired, or when its owner stops
 * being active or loses a permission (the owner is read on every request).
 */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly activity: ActivityService,
  ) {}

  async create(owner: Principal, input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
    if (owner.apiKeyId)
      throw new AppException(ErrorCode.Forbidden, 'API keys cannot create API keys: sign in to create one.');
    const notHeld = input.scopes.filter((s) => !owner.permissions.has(s));
    if (notHeld.length > 0) {
      throw new AppException(ErrorCode.Forbidden, 'A key can only carry permissions you hold.', {
        extensions: { missingPermissions: notHeld },
      });
    }
    if (input.rateTier === 'bulk' && !owner.permissions.has('api-keys:revoke-any')) {
      throw new AppException(ErrorCode.Forbidden, 'Only administrators may create keys in the bulk rate tier.');
    }
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw AppException.validation([{ field: 'expiresAt', message: 'expiresAt must be in the future' }]);
    }
    const cidrs = (input.allowedCidrs ?? []).map((c, i) => {
      const parsed = normalizeCidr(c);
      if (!parsed)
        throw AppException.validation([
          { field: `allowedCidrs.${i}`, message: 'must be an IPv4 or IPv6 address or CIDR range' },
        ]);
      return parsed.cidr;
    });
    const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const key = await this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(ApiKey);
      const saved = await repo.save(
        repo.create({
          userId: owner.userId,
          name: input.name,
          prefix: secret.slice(0, PREFIX_LENGTH),
          keyHash: hashKey(secret),
          scopes: [...new Set(input.scopes)].sort(),
          allowedCidrs: cidrs,
          rateTier: input.rateTier ?? 'standard',
          expiresAt: input.expiresAt ?? null,
        }),
      );
      await this.audit.record(manager, {
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: saved.id,
        details: {
          name: saved.name,
          prefix: saved.prefix,
          scopes: saved.scopes,
          expiresAt: saved.expiresAt?.toISOString() ?? null,
          allowedCidrs: cidrs,
          rateTier: saved.rateTier,
        },
      });
      return saved;
    });
    return { key, secret };
  }

  /** The caller's own keys, or everyone's (optionally one owner's) for holders of api-keys:read-all. */
  async list(
    caller: Principal,
    query: { ownerId?: string; all?: boolean; limit?: number; cursor?: string },
  ): Promise<Page<ApiKey>> {
    const everyone = query.all === true || (query.ownerId !== undefined && query.ownerId !== caller.userId);
    if (everyone && !caller.permissions.has('api-keys:read-all')) {
      throw new AppException(ErrorCode.Forbidden, 'Listing other users\u2019 keys needs api-keys:read-all.', {
        extensions: { missingPermissions: ['api-keys:read-all'] },
      });
    }
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const qb = this.dataSource.getRepository(ApiKey).createQueryBuilder('k');
    const owner = everyone ? query.ownerId : caller.userId;
    if (owner) qb.andWhere('k.user_id = :owner', { owner });
    const after = decodeCursor(query.cursor, 'time');
    if (after) qb.andWhere('(k.created_at, k.id) < (:k, :id)', { k: after.k, id: after.id });
    const rows = await qb
      .orderBy('k.created_at', 'DESC')
      .addOrderBy('k.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    return toPage(
      rows,
      limit,
      (k) => ({ k: k.createdAt.toISOString(), id: k.id }),
      (k) => k,
    );
  }

  /** Owners revoke their keys; holders of api-keys:revoke-any revoke anyone's. Others get 404. */
  async revoke(caller: Principal, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const key = await manager.getRepository(ApiKey).findOneBy({ id });
      const mayRevoke = key && (key.userId === caller.userId || caller.permissions.has('api-keys:revoke-any'));
      if (!key || !mayRevoke) throw AppException.notFound('API key');
      if (key.revokedAt) return;
      await manager.getRepository(ApiKey).update({ id }, { revokedAt: new Date(), revokedBy: caller.userId });
      await this.audit.record(manager, {
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: id,
        details: { ownerId: key.userId, prefix: key.prefix },
      });
    });
  }

  /** Checks a presented key; 401 for anything unusable, 403 when used from outside its allow-list. */
  async authenticate(secret: string, ip: string | undefined): Promise<ApiKeyPrincipal> {
    if (!KEY_SHAPE.test(secret)) throw invalidKey();
    const rows = await this.dataSource.query<
      {
        id: string;
        user_id: string;
        scopes: string[];
        allowed_cidrs: string[];
        rate_tier: RateTier;
        usable: boolean;
        last_used_at: Date | null;
        last_used_ip: string | null;
        email: string;
        status: string;
        roles: string[];
        group_permissions: string[];
      }[]
    >(
      `SELECT k.id, k.user_id, k.scopes, k.allowed_cidrs, k.rate_tier, k.last_used_at, k.last_used_ip,
              (k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())) AS usable,
              u.email, u.status, u.roles,
              ${GROUP_PERMISSIONS_OF_U} AS group_permissions
         FROM api_keys k JOIN users u ON u.id = k.user_id
        WHERE k.key_hash = $1`,
      [hashKey(secret)],
    );
    const row = rows[0];
    if (!row || !row.usable || row.status !== 'active') throw invalidKey();
    if (row.allowed_cidrs.length > 0 && !new CidrSet(row.allowed_cidrs).has(ip)) {
      throw new AppException(ErrorCode.Forbidden, 'This API key may not be used from this address.');
    }
    const roles = row.roles.filter(isRole);
    const ownerPermissions = permissionsForRoles(roles, row.group_permissions.filter(isPermission));
    const permissions = new Set(row.scopes.filter(isPermission).filter((s) => ownerPermissions.has(s)));
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
      // At most once a minute per key, whatever the address (a key behind a NAT pool must not write on
      // every request): the owner's activity shows the key in use.
      await this.dataSource.query('UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1', [
        row.id,
        ip ?? null,
      ]);
      await this.activity.record({ userId: row.user_id, type: 'api_key_used', details: { apiKeyId: row.id } });
    }
    return { userId: row.user_id, email: row.email, roles, permissions, apiKeyId: row.id, rateTier: row.rate_tier };
  }
}
