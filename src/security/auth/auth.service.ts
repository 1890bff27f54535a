import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { User, type UserStatus } from '../../users/entities/user.entity';
import { ActivityService } from '../../users/services/activity.service';
import { normalizeEmail, UsersService } from '../../users/services/users.service';
import { AuditService } from '../audit/audit.service';
import { Credential } from '../credentials/credential.entity';
import { CredentialsService } from '../credentials/credentials.service';
import { afterFailure, afterSuccess, isLocked } from '../credentials/lockout';
import { SessionsService } from '../sessions/sessions.service';
import type { TokenPair } from '../sessions/token.service';

export interface Registration {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
}

/** Why a login failed: recorded in activity and audit, never told to the caller. */
type FailureReason = 'unknown_email' | 'wrong_password' | 'locked' | 'not_active' | 'no_password';

const invalidCredentials = (): AppException =>
  new AppException(ErrorCode.InvalidCredentials, 'Invalid email or password.');

/**
 * Sign-in and sign-up. A failed login is indistinguishable from outside: same status, same body
 * and about the same time (a dummy hash is verified when the email is unknown, and the password
 * is verified even for locked or suspended accounts).
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
  ) {}

  async login(email: string, password: string): Promise<TokenPair> {
    const user = await this.users.findByEmail(email);
    const credential = user ? await this.credentials.find(user.id) : null;
    if (!user || !credential) {
      await this.credentials.hasher.verifyDummy(password);
      await this.recordFailure(user, normalizeEmail(email), user ? 'no_password' : 'unknown_email');
      throw invalidCredentials();
    }
    const passwordOk = await this.credentials.hasher.verify(credential.passwordHash, password);
    const now = new Date();

    return this.dataSource
      .transaction(async (manager) => {
        // Re-read under a row lock: concurrent attempts must each count.
        const cred = await manager
          .getRepository(Credential)
          .createQueryBuilder('c')
          .setLock('pessimistic_write')
          .where('c.user_id = :id', { id: user.id })
          .getOneOrFail();
        const current = await manager.getRepository(User).findOneByOrFail({ id: user.id });
        const lockExpired = current.status === 'locked' && !isLocked(cred, now);
        const usable = current.status === 'active' || lockExpired;

        if (isLocked(cred, now)) return this.failInTransaction(manager, current, 'locked');
        if (!usable) return this.failInTransaction(manager, current, 'not_active');
        if (!passwordOk) {
          const next = afterFailure(cred, this.config.lockout, now);
          await manager
            .getRepository(Credential)
            .update(
              { userId: user.id },
              { failedAttempts: next.failedAttempts, lockLevel: next.lockLevel, lockedUntil: next.lockedUntil },
            );
          if (next.lockedNow) {
            await manager
              .getRepository(User)
              .update({ id: user.id }, { status: 'locked', statusReason: 'too many failed logins' });
            await this.activity.record(
              {
                userId: user.id,
                type: 'account_locked',
                details: { until: next.lockedUntil?.toISOString(), level: next.lockLevel },
              },
              manager,
            );
            await this.audit.record(manager, {
              action: 'auth.account_locked',
              targetType: 'user',
              targetId: user.id,
              actor: { type: 'system', id: 'lockout' },
              details: {
                until: next.lockedUntil?.toISOString(),
                level: next.lockLevel,
                failures: this.config.lockout.threshold,
              },
            });
          }
          return this.failInTransaction(manager, current, 'wrong_password');
        }

        const cleared = afterSuccess();
        await manager.getRepository(Credential).update({ userId: user.id }, cleared);
        await this.credentials.rehashIfNeeded(cred, password, manager);
        await manager
          .getRepository(User)
          .update(
            { id: user.id },
            { lastLoginAt: now, ...(lockExpired ? { status: 'active', statusReason: null } : {}) },
          );
        const { session, tokens } = await this.sessions.create(user.id, manager);
        await this.activity.record({ userId: user.id, type: 'login', details: { sessionId: session.id } }, manager);
        await this.audit.record(manager, {
          action: 'auth.login',
          targetType: 'session',
          targetId: session.id,
          actor: { type: 'user', id: user.id, userId: user.id },
          details: { userId: user.id },
        });
        return { ok: true as const, tokens };
      })
      .then((result) => {
        if (!result.ok) throw invalidCredentials();
        return result.tokens;
      });
  }

  async register(input: Registration): Promise<User> {
    const mode = this.config.registrationMode;
    if (mode === 'closed')
      throw new AppException(
        ErrorCode.RegistrationClosed,
        'Self-registration is closed; ask an administrator for an account.',
      );
    await this.credentials.assertAcceptable(input.password, input);
    const status: UserStatus = mode === 'open' ? 'active' : 'pending';
    return this.dataSource.transaction(async (manager) => {
      const user = await this.users.create(
        { email: input.email, firstName: input.firstName, lastName: input.lastName, status, roles: ['viewer'] },
        manager,
      );
      await this.credentials.setPassword(user.id, input.password, manager);
      await this.activity.record({ userId: user.id, type: 'registered', details: { status } }, manager);
      await this.audit.record(manager, {
        action: 'user.registered',
        targetType: 'user',
        targetId: user.id,
        actor: { type: 'user', id: user.id, userId: user.id },
        details: { email: user.email, status, roles: user.roles },
      });
      return user;
    });
  }

  async logout(userId: string, sessionId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.sessions.revokeOwn(userId, sessionId, 'logout', manager);
      await this.activity.record({ userId, type: 'logout', details: { sessionId } }, manager);
      await this.audit.record(manager, { action: 'auth.logout', targetType: 'session', targetId: sessionId });
    });
  }

  /** Needs the current password; ends every other session of the user. */
  async changePassword(userId: string, sessionId: string | undefined, current: string, next: string): Promise<void> {
    const user = await this.users.getById(userId);
    const credential = await this.credentials.find(userId);
    if (!credential || !(await this.credentials.hasher.verify(credential.passwordHash, current))) {
      await this.audit.recordAlone({
        action: 'user.password_changed',
        targetType: 'user',
        targetId: userId,
        outcome: 'failure',
        details: { reason: 'wrong_current_password' },
      });
      throw AppException.validation(
        [{ field: 'currentPassword', message: 'currentPassword is not correct' }],
        'The current password is not correct.',
      );
    }
    await this.credentials.assertAcceptable(next, user, userId);
    await this.dataSource.transaction(async (manager) => {
      await this.credentials.setPassword(userId, next, manager);
      const ended = await this.sessions.revokeAll(userId, 'password_changed', manager, sessionId);
      await this.activity.record({ userId, type: 'password_changed', details: { otherSessionsEnded: ended } }, manager);
      await this.audit.record(manager, {
        action: 'user.password_changed',
        targetType: 'user',
        targetId: userId,
        details: { otherSessionsEnded: ended },
      });
    });
  }

  private async failInTransaction(manager: EntityManager, user: User, reason: FailureReason): Promise<{ ok: false }> {
    await this.activity.record({ userId: user.id, type: 'login_failed', details: { reason } }, manager);
    await this.audit.record(manager, {
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
      outcome: 'failure',
      actor: { type: 'user', id: user.id, userId: user.id },
      details: { reason },
    });
    return { ok: false };
  }

  private async recordFailure(user: User | null, email: string, reason: FailureReason): Promise<void> {
    try {
      if (user) {
        await this.dataSource.transaction((manager) => this.failInTransaction(manager, user, reason));
      } else {
        await this.audit.recordAlone({
          action: 'auth.login',
          targetType: 'user',
          outcome: 'failure',
          details: { email, reason },
        });
      }
    } catch (err) {
      this.logger.error(`could not record a failed login: ${String(err)}`);
    }
  }
}
