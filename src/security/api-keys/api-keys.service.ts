import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { RequestContexts } from '../../common/http/request-context';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { ActivityService } from '../../users/activity/activity.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CidrSet, normalizeCidr } from '../../common/net/cidr';
import { isPermission, type Permission } from '../rbac/permissions';
import { isRole, permissionsForRoles } from '../rbac/roles';
import { CredentialsService } from '../credentials/credentials.service';
import { mfaEnrolmentRequired } from '../mfa/mfa-policy';
import { MfaService } from '../mfa/mfa.service';
import { auditDenials, PrivilegeDenied } from '../rbac/privilege-denied';
import type { ApiKey, RateTier } from './api-key.entity';
import { ApiKeysRepository, type KeyWithOwner, type RevokedKey } from './api-keys.repository';

/** `bst_` + 32 random bytes (base64url): recognisable in logs and secret scanners, 256 bits of entropy. */
export const API_KEY_PREFIX = 'bst_';
const KEY_SHAPE = /^bst_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = 12;
const TOUCH_INTERVAL_MS = 60_000;

export interface CreateApiKeyInput {
  name: string;
  scopes: Permission[];
  /** Omitted: API_KEY_MAX_TTL_DAYS from now. `null`: never, only with API_KEY_ALLOW_NO_EXPIRY. */
  expiresAt?: Date | null;
  allowedCidrs?: string[];
  rateTier?: RateTier;
  /** Re-confirmation: the owner's password, or (for MFA users) a fresh code. */
  password?: string;
  code?: string;
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

const DAY_MS = 86_400_000;

/**
 * API keys for integrators. A key can do only what its scopes AND its owner's current
 * permissions both allow; it stops working at once when revoked, expired, or when its owner stops
 * being active or loses a permission (the owner is read on every request). It obeys the owner's
 * MFA policy at use time. Creating one is a sensitive change: it re-confirms the password (or an
 * MFA code), and keys live at most API_KEY_MAX_TTL_DAYS unless API_KEY_ALLOW_NO_EXPIRY.
 */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditService,
    private readonly activity: ActivityService,
    private readonly credentials: CredentialsService,
    private readonly mfa: MfaService,
  ) {}

  async create(owner: Principal, input: CreateApiKeyInput): Promise<{ key: ApiKey; secret: string }> {
    if (owner.apiKeyId)
      throw new AppException(ErrorCode.SessionRequired, 'API keys cannot create API keys: sign in to create one.');
    const notHeld = input.scopes.filter((s) => !owner.permissions.has(s));
    if (notHeld.length > 0) {
      return auditDenials(this.audit, () => {
        throw new PrivilegeDenied(
          ErrorCode.Forbidden,
          'A key can only carry permissions you hold.',
          {
            action: 'api_key.created',
            targetType: 'user',
            targetId: owner.userId,
            details: { name: input.name, scopes: input.scopes, missingPermissions: notHeld, reason: 'scope_not_held' },
          },
          { missingPermissions: notHeld },
        );
      });
    }
    if (input.rateTier === 'bulk' && !owner.permissions.has('api-keys:revoke-any')) {
      throw new AppException(ErrorCode.Forbidden, 'Only administrators may create keys in the bulk rate tier.');
    }
    const expiresAt = this.expiryOf(input.expiresAt);
    const cidrs = (input.allowedCidrs ?? []).map((c, i) => {
      const parsed = normalizeCidr(c);
      if (!parsed)
        throw AppException.validation([
          { field: `allowedCidrs.${i}`, message: 'must be an IPv4 or IPv6 address or CIDR range' },
        ]);
      return parsed.cidr;
    });
    await this.reconfirm(owner.userId, input);
    const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const key = await this.dataSource.transaction(async (manager) => {
      const saved = await this.keys.insert(
        {
          userId: owner.userId,
          name: input.name,
          prefix: secret.slice(0, PREFIX_LENGTH),
          keyHash: hashKey(secret),
          scopes: [...new Set(input.scopes)].sort(),
          allowedCidrs: cidrs,
          rateTier: input.rateTier ?? 'standard',
          expiresAt,
        },
        manager,
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
          confirmedWith: input.password !== undefined ? 'password' : 'mfa_code',
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
    const owner = everyone ? query.ownerId : caller.userId;
    const rows = await this.keys.listPage(owner, decodeCursor(query.cursor, 'time'), limit);
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
      const key = await this.keys.findById(id, manager);
      const mayRevoke = key && (key.userId === caller.userId || caller.permissions.has('api-keys:revoke-any'));
      if (!key || !mayRevoke) throw AppException.notFound('API key');
      if (key.revokedAt) return;
      await this.keys.markRevoked(id, caller.userId, manager);
      await this.audit.record(manager, {
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: id,
        details: { ownerId: key.userId, prefix: key.prefix },
      });
    });
  }

  /**
   * Revokes every live key of a user inside the caller's transaction, one audit entry per key with
   * `reason` (`password_changed`, `signed_out_everywhere`, `status_suspended`, ...). Returns them.
   */
  async revokeAllOf(userId: string, reason: string, manager: EntityManager, by?: string): Promise<RevokedKey[]> {
    const revoked = await this.keys.revokeAllOf(
      userId,
      by ?? RequestContexts.current()?.actor?.userId ?? null,
      manager,
    );
    for (const key of revoked) {
      await this.audit.record(manager, {
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: key.id,
        details: { ownerId: userId, prefix: key.prefix, reason },
      });
    }
    return revoked;
  }

  /** Checks a presented key; 401 for anything unusable, 403 when used from outside its allow-list. */
  async authenticate(secret: string, ip: string | undefined): Promise<ApiKeyPrincipal> {
    if (!KEY_SHAPE.test(secret)) throw invalidKey();
    const row = await this.keys.findByHashWithOwner(hashKey(secret));
    if (!row || !row.usable || row.status !== 'active') throw invalidKey();
    if (!allowedFrom(row, ip)) {
      throw new AppException(ErrorCode.Forbidden, 'This API key may not be used from this address.');
    }
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
      // At most once a minute per key, whatever the address (a key behind a NAT pool must not write on
      // every request): the owner's activity shows the key in use.
      await this.keys.touch(row.id, ip ?? null);
      await this.activity.record({ userId: row.user_id, type: 'api_key_used', details: { apiKeyId: row.id } });
    }
    return this.toPrincipal(row);
  }

  /**
   * Keys already authenticated (open live sockets), re-read in one query: each key's state now, as
   * {@link authenticate} would judge it. Keys that no longer exist are absent from the map.
   */
  async reload(
    keys: readonly { apiKeyId: string; ip: string | undefined }[],
  ): Promise<Map<string, { ok: true; principal: ApiKeyPrincipal } | { ok: false; reason: ApiKeyRefusal }>> {
    if (keys.length === 0) return new Map();
    const ipById = new Map(keys.map((k) => [k.apiKeyId, k.ip]));
    const rows = await this.keys.findByIdsWithOwner([...ipById.keys()]);
    return new Map(
      rows.map((row) => {
        const principal = this.toPrincipal(row);
        const reason: ApiKeyRefusal | null = row.revoked
          ? 'api_key_revoked'
          : !row.usable
            ? 'api_key_expired'
            : row.status !== 'active'
              ? 'user_inactive'
              : !allowedFrom(row, ipById.get(row.id))
                ? 'ip_blocked'
                : principal.mfaEnrolmentRequired
                  ? 'mfa_enrolment_required'
                  : null;
        return [row.id, reason ? { ok: false as const, reason } : { ok: true as const, principal }];
      }),
    );
  }

  /**
   * What a key may do: its scopes that its owner currently holds. The owner's MFA policy holds for
   * their keys too, checked on every use: a key of a user who must enrol answers 403
   * MFA_ENROLMENT_REQUIRED until they have (keys reach no enrolment route).
   */
  private toPrincipal(row: KeyWithOwner): ApiKeyPrincipal {
    const roles = row.roles.filter(isRole);
    const ownerPermissions = permissionsForRoles(roles, row.group_permissions.filter(isPermission));
    const permissions = new Set(row.scopes.filter(isPermission).filter((s) => ownerPermissions.has(s)));
    return {
      userId: row.user_id,
      email: row.email,
      roles,
      permissions,
      apiKeyId: row.id,
      rateTier: row.rate_tier,
      mfaEnrolmentRequired: mfaEnrolmentRequired(roles, this.config.mfa.requiredRoles, row.mfa_enabled),
    };
  }

  /** Omitted: the longest lifetime allowed; `null`: never (only when allowed); else in the future, within it. */
  private expiryOf(requested: Date | null | undefined): Date | null {
    const { maxTtlDays, allowNoExpiry } = this.config.apiKeys;
    const latest = Date.now() + maxTtlDays * DAY_MS;
    if (requested === undefined) return new Date(latest);
    if (requested === null) {
      if (allowNoExpiry) return null;
      throw AppException.validation([
        {
          field: 'expiresAt',
          message: 'keys must expire (API_KEY_ALLOW_NO_EXPIRY is off); omit it for the longest lifetime',
        },
      ]);
    }
    if (requested.getTime() <= Date.now()) {
      throw AppException.validation([{ field: 'expiresAt', message: 'expiresAt must be in the future' }]);
    }
    if (requested.getTime() > latest) {
      throw AppException.validation([
        { field: 'expiresAt', message: `expiresAt must be within ${maxTtlDays} days (API_KEY_MAX_TTL_DAYS)` },
      ]);
    }
    return requested;
  }

  /**
   * The password, or for a user with MFA a fresh code instead. A wrong one counts towards the
   * lockout like a failed sign-in (and is audited as a failed `api_key.created`).
   */
  private async reconfirm(userId: string, input: CreateApiKeyInput): Promise<void> {
    if (input.password !== undefined) {
      await this.credentials.confirmPassword(userId, input.password, { action: 'api_key.created', field: 'password' });
      return;
    }
    if (input.code !== undefined && (await this.mfa.isEnabled(userId))) {
      await this.mfa.confirmCode(userId, input.code, 'api_key.created');
      return;
    }
    throw AppException.validation(
      [{ field: 'password', message: 'password is required (or code, a current MFA code, if MFA is on)' }],
      'Creating an API key needs your password, or a current MFA code if MFA is on.',
    );
  }
}

/** Why a key that once authenticated no longer does. */
export type ApiKeyRefusal =
  'api_key_revoked' | 'api_key_expired' | 'user_inactive' | 'ip_blocked' | 'mfa_enrolment_required';

function allowedFrom(row: KeyWithOwner, ip: string | undefined): boolean {
  return row.allowed_cidrs.length === 0 || new CidrSet(row.allowed_cidrs).has(ip);
}
