import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Page } from '../../common/pagination/pagination';
import type { UserActivity } from '../../users/entities/user-activity.entity';
import { ActivityService } from '../../users/services/activity.service';
import { UsersService } from '../../users/services/users.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CredentialsService } from '../credentials/credentials.service';
import { MfaService } from '../mfa/mfa.service';
import type { Session } from '../sessions/session.entity';
import { SessionsService } from '../sessions/sessions.service';
import { mapUser, type MeDto } from '../users-admin/dto/user.dto';
import { UserAdminService } from '../users-admin/user-admin.service';

/** The caller's own account: profile, effective permissions, sessions and activity. */
@Injectable()
export class AccountService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
    private readonly admin: UserAdminService,
    private readonly mfa: MfaService,
  ) {}

  async me(principal: Principal): Promise<MeDto> {
    const user = await this.users.getById(principal.userId);
    const { groups } = await this.users.withGroups(user);
    const credential = await this.credentials.find(user.id);
    return {
      ...mapUser(user),
      groups,
      permissions: [...principal.permissions].sort(),
      passwordExpired: credential ? this.credentials.passwordExpired(credential.passwordChangedAt) : false,
      mfaEnabled: await this.mfa.isEnabled(user.id),
      mfaEnrolmentRequired: principal.mfaEnrolmentRequired ?? false,
    };
  }

  async updateProfile(principal: Principal, patch: { firstName?: string; lastName?: string }): Promise<MeDto> {
    await this.admin.updateProfile(principal, principal.userId, patch);
    return this.me(principal);
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

  /** Ends every session but the one making the request. */
  async endOtherSessions(principal: Principal): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const ended = await this.sessions.revokeAll(principal.userId, 'revoked_by_user', manager, principal.sessionId);
      await this.activity.record(
        { userId: principal.userId, type: 'session_revoked', details: { count: ended, others: true } },
        manager,
      );
      await this.audit.record(manager, {
        action: 'session.others_revoked',
        targetType: 'user',
        targetId: principal.userId,
        details: { count: ended },
      });
      return ended;
    });
  }

  activityOf(principal: Principal, page: { limit?: number; cursor?: string }): Promise<Page<UserActivity>> {
    return this.activity.list(principal.userId, page);
  }
}
