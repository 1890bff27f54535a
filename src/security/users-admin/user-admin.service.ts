import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import type { Page } from '../../common/pagination/pagination';
import type { User, UserStatus } from '../../users/users/user.entity';
import type { UserActivity } from '../../users/activity/user-activity.entity';
import { ActivityService } from '../../users/activity/activity.service';
import { UsersService, type UserFilter } from '../../users/users/users.service';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CredentialsService } from '../credentials/credentials.service';
import { actingRoles } from '../rbac/acting-authority';
import { auditDenials, PrivilegeDenied } from '../rbac/privilege-denied';
import { canChangeRoles, canGrantRole, highestRank, isRole, type Role } from '../rbac/roles';
import { SessionsService } from '../sessions/sessions.service';
import { assertIfMatch } from '../../common/http/etag';
import { userTag } from './dto/user.dto';

/** A user as administrators see it: with the sign-in lock in force, if any (it lives on the credential). */
export type AdminUser = User & { lockedUntil: Date | null };

export interface CreateUserInput {
  email: string;
  firstName: string;
  lastName: string;
  password: string;
  roles?: Role[];
}

/**
 * Administration of users, with the rules that make it safe: nobody grants a role above their
 * own, only super_admin grants admin or super_admin, nobody acts on a user who outranks them, and
 * the last active super_admin cannot be removed. Every change is audited in its own transaction.
 *
 * "Their own" is what the request may do, decided by `actingRoles` (rbac/acting-authority.ts): a
 * person's roles, an API key's scopes. Refused attempts are audited with outcome `denied`.
 */
@Injectable()
export class UserAdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async list(filter: UserFilter): Promise<Page<AdminUser>> {
    const page = await this.users.list(filter);
    const locks = await this.credentials.locksInForce(page.items.map((u) => u.id));
    return { ...page, items: page.items.map((u) => Object.assign(u, { lockedUntil: locks.get(u.id) ?? null })) };
  }

  async get(id: string): Promise<AdminUser> {
    return this.withLock(await this.users.getById(id));
  }

  /** The user with the sign-in lock in force (read through `manager` inside a transaction). */
  private async withLock(user: User, manager?: EntityManager): Promise<AdminUser> {
    const locks = await this.credentials.locksInForce([user.id], new Date(), manager);
    return Object.assign(user, { lockedUntil: locks.get(user.id) ?? null });
  }

  async create(actor: Principal, input: CreateUserInput): Promise<User> {
    const roles = input.roles ?? ['viewer'];
    const acting = actingRoles(actor);
    const refused = roles.filter((r) => !canGrantRole(acting, r));
    if (refused.length > 0) {
      return auditDenials(this.audit, () => {
        throw this.notGrantable(refused, false, {
          action: 'user.created',
          targetType: 'user',
          details: { email: input.email, roles, refused },
        });
      });
    }
    await this.credentials.assertAcceptable(input.password, input);
    return this.dataSource.transaction(async (manager) => {
      const user = await this.users.create(
        { email: input.email, firstName: input.firstName, lastName: input.lastName, status: 'active', roles },
        manager,
      );
      await this.credentials.setPassword(user.id, input.password, manager);
      await this.audit.record(manager, {
        action: 'user.created',
        targetType: 'user',
        targetId: user.id,
        details: { email: user.email, roles },
      });
      return user;
    });
  }

  async updateProfile(
    actor: Principal,
    id: string,
    patch: { firstName?: string; lastName?: string },
    ifMatch?: string,
  ): Promise<AdminUser> {
    return auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const user = await this.users.getById(id, manager, { lock: ifMatch !== undefined });
        if (actor.userId !== id) this.assertOutranks(actor, user, 'user.profile_updated');
        // The tag the caller read (GET /users/{id}), computed under the row lock: stale is a 412.
        if (ifMatch !== undefined) assertIfMatch(ifMatch, userTag(await this.withLock(user, manager)));
        const changes = Object.fromEntries(
          Object.entries(patch).filter(([k, v]) => v !== undefined && user[k as keyof User] !== v),
        );
        if (Object.keys(changes).length === 0) return this.withLock(user, manager);
        const before = Object.fromEntries(Object.keys(changes).map((k) => [k, user[k as keyof User]]));
        const updated = await this.users.update(user, changes, manager);
        await this.activity.record(
          { userId: id, type: 'profile_updated', details: { fields: Object.keys(changes) } },
          manager,
        );
        await this.audit.record(manager, {
          action: 'user.profile_updated',
          targetType: 'user',
          targetId: id,
          details: { before, after: changes },
        });
        return this.withLock(updated, manager);
      }),
    );
  }

  async setRoles(actor: Principal, id: string, roles: Role[]): Promise<AdminUser> {
    const acting = actingRoles(actor);
    return auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const user = await this.users.getById(id, manager);
        const current = user.roles.filter(isRole);
        if (!canChangeRoles(acting, current, roles)) {
          const changed = [...roles.filter((r) => !current.includes(r)), ...current.filter((r) => !roles.includes(r))];
          const refused = changed.filter((r) => !canGrantRole(acting, r));
          throw this.notGrantable(refused, highestRank(current) > highestRank(acting), {
            action: 'user.roles_changed',
            targetType: 'user',
            targetId: id,
            details: { before: current, requested: roles, refused },
          });
        }
        if (current.includes('super_admin') && !roles.includes('super_admin'))
          await this.assertNotLastSuperAdmin(user, manager);
        const updated = await this.users.update(user, { roles }, manager);
        await this.activity.record(
          { userId: id, type: 'roles_changed', details: { before: current, after: roles } },
          manager,
        );
        await this.audit.record(manager, {
          action: 'user.roles_changed',
          targetType: 'user',
          targetId: id,
          details: { before: current, after: roles },
        });
        return this.withLock(updated, manager);
      }),
    );
  }

  async setStatus(
    actor: Principal,
    id: string,
    status: Extract<UserStatus, 'active' | 'inactive' | 'suspended'>,
    reason: string,
  ): Promise<AdminUser> {
    return auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const user = await this.users.getById(id, manager);
        this.assertOutranks(actor, user, 'user.status_changed', { status, reason });
        if (status !== 'active' && user.roles.includes('super_admin') && user.status === 'active') {
          await this.assertNotLastSuperAdmin(user, manager);
        }
        const before = user.status;
        const updated = await this.users.update(user, { status, statusReason: reason }, manager);
        if (status === 'active') await this.credentials.clearLockout(manager, id);
        const ended = status === 'active' ? 0 : await this.sessions.revokeAll(id, `status_${status}`, manager);
        // A suspended or deactivated account's keys are revoked for good: reactivating it does not revive them.
        const keys = status === 'active' ? [] : await this.apiKeys.revokeAllOf(id, `status_${status}`, manager);
        await this.activity.record(
          { userId: id, type: 'status_changed', details: { before, after: status, reason } },
          manager,
        );
        await this.audit.record(manager, {
          action: 'user.status_changed',
          targetType: 'user',
          targetId: id,
          details: { before, after: status, reason, sessionsEnded: ended, apiKeysRevoked: keys.length },
        });
        return this.withLock(updated, manager);
      }),
    );
  }

  /**
   * Lifts a sign-in lock before it expires by itself, and clears the failure count and the
   * escalation. The status is not touched: a lock never changed it.
   */
  async unlock(actor: Principal, id: string): Promise<AdminUser> {
    return auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const user = await this.users.getById(id, manager);
        this.assertOutranks(actor, user, 'user.unlocked');
        const lockedUntil = (await this.credentials.locksInForce([id], new Date(), manager)).get(id) ?? null;
        await this.credentials.clearLockout(manager, id);
        const details = { wasLockedUntil: lockedUntil?.toISOString() ?? null };
        await this.activity.record({ userId: id, type: 'account_unlocked', details }, manager);
        await this.audit.record(manager, { action: 'user.unlocked', targetType: 'user', targetId: id, details });
        return Object.assign(user, { lockedUntil: null });
      }),
    );
  }

  async revokeSessions(actor: Principal, id: string): Promise<number> {
    return auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const user = await this.users.getById(id, manager);
        if (actor.userId !== id) this.assertOutranks(actor, user, 'user.sessions_revoked');
        const ended = await this.sessions.revokeAll(id, 'revoked_by_admin', manager);
        await this.activity.record(
          { userId: id, type: 'session_revoked', details: { count: ended, by: actor.userId } },
          manager,
        );
        await this.audit.record(manager, {
          action: 'user.sessions_revoked',
          targetType: 'user',
          targetId: id,
          details: { count: ended },
        });
        return ended;
      }),
    );
  }

  async activityOf(id: string, page: { limit?: number; cursor?: string }): Promise<Page<UserActivity>> {
    await this.users.getById(id);
    return this.activity.list(id, page);
  }

  /** Refuses (and has audited as `denied`) acting on a user ranked above the roles the caller acts with. */
  private assertOutranks(actor: Principal, user: User, action: string, details: Record<string, unknown> = {}): void {
    const targetRank = highestRank(user.roles.filter(isRole));
    if (actor.userId !== user.id && targetRank > highestRank(actingRoles(actor))) {
      throw new PrivilegeDenied(
        ErrorCode.Forbidden,
        actor.apiKeyId
          ? 'This API key may not act on a user who holds permissions outside its scopes.'
          : 'You may not act on a user who holds a higher role than yours.',
        { action, targetType: 'user', targetId: user.id, details: { ...details, reason: 'target_outranks_actor' } },
      );
    }
  }

  private async assertNotLastSuperAdmin(user: User, manager: EntityManager): Promise<void> {
    // Serialise concurrent demotions so two admins cannot each remove "the other" last one.
    await this.users.lockSuperAdminChanges(manager);
    if ((await this.users.countActiveWithRole('super_admin', user.id, manager)) === 0) {
      throw new AppException(
        ErrorCode.LastSuperAdmin,
        'This is the last active super_admin; appoint another one first.',
      );
    }
  }

  private notGrantable(roles: Role[], outranked: boolean, attempt: PrivilegeDenied['attempt']): PrivilegeDenied {
    return new PrivilegeDenied(
      ErrorCode.RoleNotGrantable,
      outranked
        ? 'You may not change the roles of a user who holds a higher role than yours.'
        : `You may not grant or remove: ${roles.join(', ')}. Nobody grants a role above their own; only super_admin grants admin or super_admin; an API key grants only roles whose every permission is in its scopes.`,
      {
        ...attempt,
        details: { ...attempt.details, reason: outranked ? 'target_outranks_actor' : 'role_not_grantable' },
      },
      { roles },
    );
  }
}
