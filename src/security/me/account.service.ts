import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import type { Page } from '../../common/pagination/pagination';
import type { UserActivity } from '../../users/activity/user-activity.entity';
import type { User } from '../../users/users/user.entity';
import { ActivityService } from '../../users/activity/activity.service';
import type { RevokedKey } from '../api-keys/api-keys.repository';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CredentialsService } from '../credentials/credentials.service';
import type { Session } from '../sessions/session.entity';
import { SessionsService } from '../sessions/sessions.service';
import { mapUser, type MeDto } from '../users-admin/dto/user.dto';
import { AccountRepository } from './account.repository';
import { UserAdminService } from '../users-admin/user-admin.service';

/** The caller's own account: profile, effective permissions, sessions and activity. */
@Injectable()
export class AccountService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: AccountRepository,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
    private readonly admin: UserAdminService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /**
   * The profile, groups, password age and MFA state. /me is the most-called route: a session's
   * principal already carries them from the guard's one query (read on this request, so as fresh
   * as a second query would be); otherwise one query reads them.
   */
  async me(principal: Principal): Promise<MeDto> {
    const account = principal.account;
    if (account) {
      return {
        id: principal.userId,
        email: principal.email,
        firstName: account.firstName,
        lastName: account.lastName,
        status: account.status as User['status'],
        statusReason: account.statusReason,
        roles: principal.roles,
        lockedUntil: account.lockedUntil?.toISOString() ?? null,
        lastLoginAt: account.lastLoginAt?.toISOString() ?? null,
        createdAt: account.createdAt.toISOString(),
        updatedAt: account.updatedAt.toISOString(),
        groups: account.groups,
        permissions: [...principal.permissions].sort(),
        passwordExpired: account.passwordExpired,
        mfaEnabled: account.mfaEnabled,
        mfaEnrolmentRequired: principal.mfaEnrolmentRequired ?? false,
      };
    }
    const row = await this.accounts.findAccount(principal.userId);
    if (!row) throw AppException.notFound('user');
    return {
      ...mapUser(row),
      groups: row.groups,
      permissions: [...principal.permissions].sort(),
      passwordExpired: row.passwordChangedAt ? this.credentials.passwordExpired(row.passwordChangedAt) : false,
      mfaEnabled: row.mfaEnabled,
      mfaEnrolmentRequired: principal.mfaEnrolmentRequired ?? false,
    };
  }

  async updateProfile(principal: Principal, patch: { firstName?: string; lastName?: string }): Promise<MeDto> {
    await this.admin.updateProfile(principal, principal.userId, patch);
    return this.me({ ...principal, account: undefined }); // read again: the guard's copy predates the change
  }

  listSessions(principal: Principal): Promise<Session[]> {
    return this.sessions.listActive(principal.userId);
  }

  async endSession(principal: Principal, sessionId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.sessions.revokeOwn(principal.userId, sessionId, 'revoked_by_user', manager);
      await this.activity.record(
        { userId: principal.userId, type: 'session_revoked', details: { sessionId } },
        manager,
      );
      await this.audit.record(manager, { action: 'session.revoked', targetType: 'session', targetId: sessionId });
    });
  }

  /** Ends every session but the one making the request ("sign out everywhere"), and with `revokeApiKeys` every API key. */
  async endOtherSessions(
    principal: Principal,
    revokeApiKeys = false,
  ): Promise<{ revoked: number; revokedApiKeys: RevokedKey[] }> {
    return this.dataSource.transaction(async (manager) => {
      const ended = await this.sessions.revokeAll(principal.userId, 'revoked_by_user', manager, principal.sessionId);
      const revokedApiKeys = revokeApiKeys
        ? await this.apiKeys.revokeAllOf(principal.userId, 'signed_out_everywhere', manager)
        : [];
      await this.activity.record(
        {
          userId: principal.userId,
          type: 'session_revoked',
          details: { count: ended, others: true, apiKeysRevoked: revokedApiKeys.length },
        },
        manager,
      );
      await this.audit.record(manager, {
        action: 'session.others_revoked',
        targetType: 'user',
        targetId: principal.userId,
        details: { count: ended, apiKeysRevoked: revokedApiKeys.length },
      });
      return { revoked: ended, revokedApiKeys };
    });
  }

  activityOf(principal: Principal, page: { limit?: number; cursor?: string }): Promise<Page<UserActivity>> {
    return this.activity.list(principal.userId, page);
  }
}
