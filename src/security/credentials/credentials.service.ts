import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { PasswordHasher } from '../passwords/password-hasher';
import {
  checkPassword,
  findReusedPassword,
  type PasswordContext,
  type PasswordPolicyOptions,
  type PasswordViolation,
  resolvePasswordPolicy,
  reusedPasswordViolation,
} from '../passwords/password-policy';
import type { Credential } from './credential.entity';
import { normalizeEmail } from '../../common/text/email';
import { CredentialsRepository, type SignInRecord } from './credentials.repository';
import { FailedSignInsService } from './failed-sign-ins.service';

/**
 * Passwords: the policy, argon2id hashing, history, and rehashing when parameters change.
 * A rejected password is one 400 problem listing every rule it broke.
 */
@Injectable()
export class CredentialsService implements OnModuleInit {
  readonly hasher: PasswordHasher;
  readonly policy: PasswordPolicyOptions;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly failures: FailedSignInsService,
    private readonly repository: CredentialsRepository,
  ) {
    this.hasher = new PasswordHasher(config.passwords.argon2);
    this.policy = resolvePasswordPolicy({
      minLength: config.passwords.minLength,
      maxLength: config.passwords.maxLength,
      requireComposition: config.passwords.requireComposition,
      historySize: config.passwords.historySize,
      minScore: config.passwords.minScore,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.hasher.warmUp(); // the dummy hash used for unknown emails, computed before the first login
  }

  find(userId: string, manager?: EntityManager): Promise<Credential | null> {
    return this.repository.find(userId, manager);
  }

  /**
   * The sign-in locks in force at `now`, by user id: users absent from the map are not locked.
   * A lock is a credential's `lockedUntil` in the future; it ends by itself.
   */
  locksInForce(userIds: readonly string[], now = new Date(), manager?: EntityManager): Promise<Map<string, Date>> {
    return this.repository.locksInForce(userIds, now, manager);
  }

  /** Throws 400 WEAK_PASSWORD listing every broken rule, the reuse of a recent password included. */
  async assertAcceptable(
    password: string,
    context: PasswordContext,
    userId?: string,
    manager?: EntityManager,
  ): Promise<void> {
    const violations: PasswordViolation[] = checkPassword(password, context, this.policy);
    if (userId && this.policy.historySize > 0 && !violations.some((v) => v.rule === 'max_length')) {
      const recent = await this.recentHashes(userId, manager);
      if (await findReusedPassword(password, recent, (hash, pw) => this.hasher.verify(hash, pw))) {
        violations.push(reusedPasswordViolation(this.policy.historySize));
      }
    }
    if (violations.length > 0) {
      throw new AppException(
        ErrorCode.WeakPassword,
        `The password breaks ${violations.length} rule(s) of the password policy.`,
        {
          errors: violations.map((v) => ({ field: 'password', message: v.message })),
          extensions: { rules: violations.map((v) => v.rule) },
        },
      );
    }
  }

  /**
   * A sensitive change re-confirms the user's password. A wrong one counts as a failed sign-in
   * (lockout, activity, threat detection; audited as a failure of `action`) and is answered with
   * 400 on `field`.
   */
  async confirmPassword(userId: string, password: string, failure: { action: string; field: string }): Promise<void> {
    const credential = await this.find(userId);
    if (credential && (await this.hasher.verify(credential.passwordHash, password))) return;
    await this.failures.recordReconfirmationFailure(userId, 'wrong_current_password', failure.action);
    throw AppException.validation(
      [{ field: failure.field, message: `${failure.field} is not correct` }],
      `The ${failure.field === 'password' ? 'password' : 'current password'} is not correct.`,
    );
  }

  /** Sets a password (already checked) and remembers it for the history rule. */
  async setPassword(userId: string, password: string, manager: EntityManager): Promise<void> {
    const hash = await this.hasher.hash(password);
    await this.repository.setPassword(manager, userId, hash, new Date(), Math.max(this.policy.historySize, 1));
  }

  /** The stored hash, rehashed with the current parameters when they changed (at login). */
  async rehashIfNeeded(credential: Credential, password: string, manager: EntityManager): Promise<void> {
    if (!this.hasher.needsRehash(credential.passwordHash)) return;
    const hash = await this.hasher.hash(password);
    await this.repository.replaceHash(manager, credential.userId, hash);
  }

  /** With PASSWORD_MAX_AGE_DAYS set, a password older than that allows only a password change. */
  passwordExpired(passwordChangedAt: Date, now = new Date()): boolean {
    const days = this.config.passwords.maxAgeDays;
    return days > 0 && now.getTime() - passwordChangedAt.getTime() > days * 86_400_000;
  }

  private recentHashes(userId: string, manager?: EntityManager): Promise<string[]> {
    return this.repository.recentHashes(userId, this.policy.historySize, manager);
  }

  /** The credential locked for the rest of `manager`'s transaction (sign-in, MFA step, re-confirmation). */
  lockForUpdate(manager: EntityManager, userId: string): Promise<Credential | null> {
    return this.repository.lockForUpdate(manager, userId);
  }

  /** The user with this email and its credential, in one read (sign-in, before the password check). */
  signInCandidate(email: string): Promise<SignInRecord | null> {
    return this.repository.signInCandidate(normalizeEmail(email));
  }

  /** Sign-in's transaction: the credential locked, its user now, and whether MFA is active. */
  lockForSignIn(
    manager: EntityManager,
    userId: string,
  ): Promise<(SignInRecord & { credential: Credential; mfaEnabled: boolean }) | null> {
    return this.repository.lockForSignIn(manager, userId);
  }

  /** A completed sign-in: `last_login_at`, and the lockout cleared if `cred` shows any. */
  recordSignIn(manager: EntityManager, cred: Credential, now: Date): Promise<void> {
    const clear = cred.failedAttempts !== 0 || cred.lockLevel !== 0 || cred.lockedUntil !== null;
    return this.repository.recordSignIn(manager, cred.userId, now, clear);
  }

  /** Clears failures, escalation and lock: a success, an admin unlock, a reactivation. */
  clearLockout(manager: EntityManager, userId: string): Promise<void> {
    return this.repository.clearLockout(manager, userId);
  }
}
