import { setTimeout as delay } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { afterCommit } from '../../common/database/after-commit';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { RequestContexts } from '../../common/http/request-context';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import type { User, UserStatus } from '../../users/users/user.entity';
import { ActivityService } from '../../users/activity/activity.service';
import { normalizeEmail, UsersService } from '../../users/users/users.service';
import type { RevokedKey } from '../api-keys/api-keys.repository';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditService } from '../audit/audit.service';
import type { Credential } from '../credentials/credential.entity';
import { CredentialsService } from '../credentials/credentials.service';
import { FailedSignInsService, type FailureReason } from '../credentials/failed-sign-ins.service';
import { isLocked, type LockoutState } from '../credentials/lockout';
import { challengeState, MFA_CHALLENGE_MAX_ATTEMPTS } from '../mfa/mfa-challenge';
import { MfaService } from '../mfa/mfa.service';
import { type LoginFailedSignal, type LoginSucceededSignal, ThreatSignals } from '../threats/threat.events';
import { SessionsService } from '../sessions/sessions.service';
import type { TokenPair } from '../sessions/token.service';

export interface Registration {
  email: string;
  password: string;
  firstName: string;
  lastName: string;
}

/** The right password of a user with MFA: the second step goes to POST /auth/mfa/verify. */
export interface MfaChallengeResult {
  mfaRequired: true;
  mfaToken: string;
  expiresIn: number;
}

export type LoginResult = TokenPair | MfaChallengeResult;

/** Which second factor completed a login. */
export type MfaMethod = 'totp' | 'recovery_code';

const invalidCredentials = (): AppException =>
  new AppException(ErrorCode.InvalidCredentials, 'Invalid email or password.');

const invalidMfaToken = (): AppException =>
  new AppException(ErrorCode.InvalidToken, 'The MFA token is invalid, expired or already used; sign in again.');

/**
 * Sign-in and sign-up. A failed login is indistinguishable from outside: same status, same body
 * and about the same time (a dummy hash is verified when the email is unknown, and the password
 * is verified even for locked or suspended accounts).
 *
 * With MFA active, the right password yields a challenge instead of tokens, and the failure count
 * is left as it is: only a completed second step clears it, so wrong codes and wrong passwords add
 * up towards one lockout and a known password does not buy unlimited guesses at codes.
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
    private readonly mfa: MfaService,
    private readonly events: EventEmitter2,
    private readonly failures: FailedSignInsService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /**
   * `login`, with every refused attempt answered LOGIN_FAILURE_MIN_MS after it began: an unknown
   * email, a wrong password, a locked or inactive account all take the same time, so response
   * times do not tell which emails have accounts (the natural paths differ by a few database
   * writes). Successful sign-ins are not delayed.
   */
  async loginEvenly(email: string, password: string): Promise<LoginResult> {
    const started = performance.now();
    try {
      return await this.login(email, password);
    } catch (err) {
      if (err instanceof AppException && err.code === ErrorCode.InvalidCredentials) {
        const wait = started + this.config.auth.loginFailureMinMs - performance.now();
        if (wait > 0) await delay(wait);
      }
      throw err;
    }
  }

  async login(email: string, password: string): Promise<LoginResult> {
    const candidate = await this.credentials.signInCandidate(email);
    const user = candidate?.user ?? null;
    const credential = candidate?.credential ?? null;
    if (!user || !credential) {
      await this.credentials.hasher.verifyDummy(password);
      await this.recordFailure(user, normalizeEmail(email), user ? 'no_password' : 'unknown_email');
      throw invalidCredentials();
    }
    const passwordOk = await this.credentials.hasher.verify(credential.passwordHash, password);
    const now = new Date();

    return this.dataSource
      .transaction(async (manager) => {
        // Re-read under a row lock: concurrent attempts must each count. The user and its MFA
        // state come with it, as they are now (one statement).
        const locked = await this.credentials.lockForSignIn(manager, user.id);
        if (!locked) throw new Error(`credential of ${user.id} vanished during sign-in`);
        const { credential: cred, user: current } = locked;

        // The lock is on the credential and ends by itself at lockedUntil: no status to restore.
        if (isLocked(cred, now)) return this.failInTransaction(manager, current, 'locked');
        if (current.status !== 'active') return this.failInTransaction(manager, current, 'not_active');
        if (!passwordOk) {
          await this.countFailure(manager, user.id, cred, now);
          return this.failInTransaction(manager, current, 'wrong_password');
        }

        await this.credentials.rehashIfNeeded(cred, password, manager);
        if (locked.mfaEnabled) {
          const challenge = await this.mfa.createChallenge(user.id, manager);
          await this.audit.record(manager, {
            action: 'auth.mfa_challenged',
            targetType: 'user',
            targetId: user.id,
            actor: { type: 'user', id: user.id, userId: user.id },
            details: { challengeId: challenge.id, expiresIn: challenge.expiresIn },
          });
          const result: MfaChallengeResult = {
            mfaRequired: true,
            mfaToken: challenge.token,
            expiresIn: challenge.expiresIn,
          };
          return { ok: true as const, result };
        }
        const result: LoginResult = await this.completeLogin(manager, cred, now);
        return { ok: true as const, result };
      })
      .then((outcome) => {
        if (!outcome.ok) throw invalidCredentials();
        return outcome.result;
      });
  }

  /**
   * The second step of a login: the mfaToken of the challenge and a TOTP or recovery code.
   * A wrong code counts towards the account lockout like a wrong password, and after
   * MFA_CHALLENGE_MAX_ATTEMPTS wrong codes (or when the account locks) the challenge is burnt.
   *
   * Answers: tokens; 401 INVALID_MFA_CODE for a wrong or replayed code on a live challenge (with
   * `attemptsRemaining`); 401 INVALID_TOKEN for an unknown, expired, used or burnt challenge, or an
   * account that was locked or deactivated meanwhile: sign in again.
   */
  async verifyMfa(mfaToken: string, code: string): Promise<TokenPair> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const challenge = await this.mfa.lockChallenge(mfaToken, manager);
      if (!challenge) return { kind: 'invalid_token' as const };
      const now = new Date();
      const user = await this.users.findExisting(challenge.userId, manager);
      const state = challengeState(challenge, now);
      if (state !== 'live') {
        await this.failInTransaction(manager, user, 'mfa_token_invalid', { challengeId: challenge.id, state });
        return { kind: 'invalid_token' as const };
      }

      const cred = await this.lockCredential(manager, user.id);
      if (isLocked(cred, now) || user.status !== 'active') {
        await this.mfa.closeChallenge(challenge.id, manager);
        await this.failInTransaction(manager, user, isLocked(cred, now) ? 'locked' : 'not_active', {
          challengeId: challenge.id,
        });
        return { kind: 'invalid_token' as const };
      }

      const check = await this.mfa.checkCode(user.id, code, manager);
      if (!check.ok) {
        if (check.failure === 'not_enabled') {
          // MFA was turned off after the password step: the challenge has nothing left to check.
          await this.mfa.closeChallenge(challenge.id, manager);
          await this.failInTransaction(manager, user, 'mfa_token_invalid', {
            challengeId: challenge.id,
            state: 'mfa_disabled',
          });
          return { kind: 'invalid_token' as const };
        }
        const attempts = challenge.attempts + 1;
        const next = await this.countFailure(manager, user.id, cred, now);
        const burnt = attempts >= MFA_CHALLENGE_MAX_ATTEMPTS || next.lockedNow;
        await this.mfa.recordAttempt(challenge.id, attempts, burnt, manager);
        await this.failInTransaction(manager, user, 'mfa_failed', {
          challengeId: challenge.id,
          attempt: attempts,
          failure: check.failure,
          challengeBurnt: burnt,
        });
        return { kind: 'wrong_code' as const, attemptsRemaining: burnt ? 0 : MFA_CHALLENGE_MAX_ATTEMPTS - attempts };
      }

      await this.mfa.closeChallenge(challenge.id, manager);
      const tokens = await this.completeLogin(manager, cred, now, {
        mfa: check.method,
        challengeId: challenge.id,
        ...(check.recoveryCodesRemaining !== undefined ? { remaining: check.recoveryCodesRemaining } : {}),
      });
      return { kind: 'ok' as const, tokens };
    });

    switch (outcome.kind) {
      case 'ok':
        return outcome.tokens;
      case 'wrong_code':
        throw new AppException(ErrorCode.InvalidMfaCode, 'The code is not valid.', {
          extensions: { attemptsRemaining: outcome.attemptsRemaining },
        });
      case 'invalid_token':
        throw invalidMfaToken();
    }
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

  /**
   * Needs the current password (a wrong one counts as a failed sign-in); ends every other session
   * of the user and, with `revokeApiKeys`, revokes every API key of theirs too.
   */
  async changePassword(
    userId: string,
    sessionId: string | undefined,
    current: string,
    next: string,
    revokeApiKeys = false,
  ): Promise<{ otherSessionsEnded: number; revokedApiKeys: RevokedKey[] }> {
    const user = await this.users.getById(userId);
    await this.credentials.confirmPassword(userId, current, {
      action: 'user.password_changed',
      field: 'currentPassword',
    });
    await this.credentials.assertAcceptable(next, user, userId);
    return this.dataSource.transaction(async (manager) => {
      await this.credentials.setPassword(userId, next, manager);
      const ended = await this.sessions.revokeAll(userId, 'password_changed', manager, sessionId);
      const revokedApiKeys = revokeApiKeys ? await this.apiKeys.revokeAllOf(userId, 'password_changed', manager) : [];
      const details = { otherSessionsEnded: ended, apiKeysRevoked: revokedApiKeys.length };
      await this.activity.record({ userId, type: 'password_changed', details }, manager);
      await this.audit.record(manager, {
        action: 'user.password_changed',
        targetType: 'user',
        targetId: userId,
        details,
      });
      return { otherSessionsEnded: ended, revokedApiKeys };
    });
  }

  /** Counts one failed attempt against the account (see FailedSignInsService, the one failure path). */
  private countFailure(
    manager: EntityManager,
    userId: string,
    cred: LockoutState,
    now: Date,
  ): Promise<LockoutState & { lockedNow: boolean }> {
    return this.failures.countFailure(manager, userId, cred, now);
  }

  /** The credential row under a row lock; it exists (the caller checked before the transaction). */
  private async lockCredential(manager: EntityManager, userId: string): Promise<Credential> {
    const cred = await this.credentials.lockForUpdate(manager, userId);
    if (!cred) throw new Error(`credential of ${userId} vanished during sign-in`);
    return cred;
  }

  /** A successful sign-in: clears the failure count, opens the session, records it. */
  private async completeLogin(
    manager: EntityManager,
    cred: Credential,
    now: Date,
    mfa?: { mfa: MfaMethod; challengeId: string; remaining?: number },
  ): Promise<TokenPair> {
    const userId = cred.userId;
    await this.credentials.recordSignIn(manager, cred, now);
    const { session, tokens } = await this.sessions.create(userId, manager);
    const ctx = RequestContexts.current();
    afterCommit(manager, () =>
      this.events.emit(ThreatSignals.loginSucceeded, {
        userId,
        sessionId: session.id,
        ip: ctx?.ip,
        userAgent: ctx?.userAgent,
      } satisfies LoginSucceededSignal),
    );
    await this.activity.record(
      { userId, type: 'login', details: { sessionId: session.id, ...(mfa ? { mfa: mfa.mfa } : {}) } },
      manager,
    );
    await this.audit.record(manager, {
      action: 'auth.login',
      targetType: 'session',
      targetId: session.id,
      actor: { type: 'user', id: userId, userId },
      details: {
        userId,
        ...(mfa
          ? {
              mfa: mfa.mfa,
              challengeId: mfa.challengeId,
              ...(mfa.remaining !== undefined ? { backupCodesLeft: mfa.remaining } : {}),
            }
          : {}),
      },
    });
    return tokens;
  }

  private failInTransaction(
    manager: EntityManager,
    user: User,
    reason: FailureReason,
    extra: Record<string, unknown> = {},
  ): Promise<{ ok: false }> {
    return this.failures.recordFailure(manager, user, reason, extra);
  }

  private async recordFailure(user: User | null, email: string, reason: FailureReason): Promise<void> {
    try {
      if (user) {
        await this.dataSource.transaction((manager) => this.failInTransaction(manager, user, reason));
      } else {
        const ctx = RequestContexts.current();
        this.events.emit(ThreatSignals.loginFailed, {
          email,
          ip: ctx?.ip,
          userAgent: ctx?.userAgent,
          reason,
        } satisfies LoginFailedSignal);
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
