import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { afterCommit } from '../../common/database/after-commit';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { RequestContexts } from '../../common/http/request-context';
import type { User } from '../../users/users/user.entity';
import { UsersService } from '../../users/users/users.service';
import { ActivityService } from '../../users/activity/activity.service';
import { AuditService } from '../audit/audit.service';
import { type LoginFailedSignal, ThreatSignals } from '../threats/threat.events';
import { CredentialsRepository } from './credentials.repository';
import { afterFailure, type LockoutState } from './lockout';

/** Why a login (or a re-confirmation) failed: recorded in activity and audit, never told to the caller. */
export type FailureReason =
  | 'unknown_email'
  | 'wrong_password'
  | 'locked'
  | 'not_active'
  | 'no_password'
  | 'mfa_failed'
  | 'mfa_token_invalid'
  | 'wrong_current_password';

/**
 * The one failure-recording path of credentials: a wrong password or code at sign-in, and a wrong
 * password or code re-confirming a sensitive change (password change, turning MFA off, creating an
 * API key). Each counts towards the account lockout, is recorded in activity (`login_failed`) and
 * the audit log, and is signalled to threat detection, the same way wherever it happens: a stolen
 * session gets no more password guesses than the sign-in form.
 */
@Injectable()
export class FailedSignInsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
    private readonly credentials: CredentialsRepository,
    private readonly users: UsersService,
  ) {}

  /**
   * Counts one failed attempt (wrong password or wrong code) against the account, and locks it at
   * the threshold. `cred` is the credential row, already locked by the caller's transaction.
   */
  async countFailure(
    manager: EntityManager,
    userId: string,
    cred: LockoutState,
    now: Date,
  ): Promise<LockoutState & { lockedNow: boolean }> {
    const next = afterFailure(cred, this.config.lockout, now);
    await this.credentials.recordFailure(manager, userId, next);
    if (next.lockedNow) {
      // Only sign-in is refused: the user's status, live sessions and API keys are left alone, so
      // someone typing wrong passwords cannot cut the real user off.
      await this.activity.record(
        {
          userId,
          type: 'account_locked',
          details: { until: next.lockedUntil?.toISOString(), level: next.lockLevel },
        },
        manager,
      );
      await this.audit.record(manager, {
        action: 'auth.account_locked',
        targetType: 'user',
        targetId: userId,
        actor: { type: 'system', id: 'lockout' },
        details: {
          until: next.lockedUntil?.toISOString(),
          level: next.lockLevel,
          failures: this.config.lockout.threshold,
        },
      });
    }
    return next;
  }

  /**
   * Records a failed attempt of a known user in the caller's transaction: activity, threat signal,
   * and an audit entry (`auth.login`, or the re-confirmed change's action) with outcome `failure`.
   */
  async recordFailure(
    manager: EntityManager,
    user: User,
    reason: FailureReason,
    extra: Record<string, unknown> = {},
    auditAction = 'auth.login',
  ): Promise<{ ok: false }> {
    await this.activity.record({ userId: user.id, type: 'login_failed', details: { reason, ...extra } }, manager);
    const ctx = RequestContexts.current();
    afterCommit(manager, () =>
      this.events.emit(reason === 'mfa_failed' ? ThreatSignals.mfaFailed : ThreatSignals.loginFailed, {
        email: user.email,
        userId: user.id,
        ip: ctx?.ip,
        userAgent: ctx?.userAgent,
        reason,
      } satisfies LoginFailedSignal),
    );
    await this.audit.record(manager, {
      action: auditAction,
      targetType: 'user',
      targetId: user.id,
      outcome: 'failure',
      actor: { type: 'user', id: user.id, userId: user.id },
      details: { reason, ...extra },
    });
    return { ok: false };
  }

  /**
   * A wrong password or code re-confirming `action` (`user.password_changed`, `api_key.created`,
   * `mfa.totp_disabled`): counted and recorded exactly like a failed sign-in, in a transaction of
   * its own (the change itself did not happen).
   */
  async recordReconfirmationFailure(
    userId: string,
    reason: Extract<FailureReason, 'wrong_current_password' | 'mfa_failed'>,
    action: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.users.findById(userId, manager);
      if (!user) return;
      const cred = await this.credentials.lockForUpdate(manager, userId);
      if (cred) await this.countFailure(manager, userId, cred, new Date());
      await this.recordFailure(manager, user, reason, { ...extra, during: action }, action);
    });
  }
}
