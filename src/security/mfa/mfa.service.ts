import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import QRCode from 'qrcode';
import type { DataSource, EntityManager } from 'typeorm';
import { type AppConfig, ConfigError } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { RequestContexts } from '../../common/http/request-context';
import { ActivityService } from '../../users/activity/activity.service';
import { UsersService } from '../../users/users/users.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { CredentialsService } from '../credentials/credentials.service';
import { FailedSignInsService } from '../credentials/failed-sign-ins.service';
import { EncryptionService, INTERNAL_KEYS } from '../crypto/encryption.service';
import { ROLES } from '../rbac/roles';
import type { MfaChallenge } from './mfa-challenge.entity';
import { MFA_CHALLENGE_TTL_SECONDS, newMfaToken, parseMfaToken } from './mfa-challenge';
import { mfaEnrolmentRequired, unknownRoles } from './mfa-policy';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes';
import { normalizeTotpCode, newTotpSecret, totpUri, verifyTotp } from './totp';
import { MfaRepository } from './mfa.repository';
import type { TotpFactor } from './totp-factor.entity';

/** The issuer authenticator apps show next to the account. */
export const TOTP_ISSUER = 'Bastion';
/** EncryptionService purpose of TOTP secrets: keys `bastion/totp/v<n>`. */
export const TOTP_PURPOSE = 'totp';
/** Used challenges are kept this long for investigation, then deleted at the user's next login. */
const CHALLENGE_RETENTION_MS = 24 * 3600 * 1000;

export interface MfaStatus {
  enabled: boolean;
  enrolledAt: Date | null;
  pendingEnrolment: boolean;
  recoveryCodesRemaining: number;
  required: boolean;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
  qrCode: string;
}

/** Why a second factor was refused: recorded in activity and audit. */
export type CodeFailure = 'malformed' | 'mismatch' | 'replayed' | 'not_enabled';

export type CodeCheck =
  { ok: true; method: 'totp' | 'recovery_code'; recoveryCodesRemaining?: number } | { ok: false; failure: CodeFailure };

const invalidCode = (): AppException =>
  AppException.validation(
    [{ field: 'code', message: 'code is not a valid TOTP or recovery code' }],
    'The code is not valid.',
  );

/**
 * TOTP multi-factor authentication: enrolment, activation with recovery codes, disabling, the code
 * check shared by sign-in and disabling (each TOTP step and each recovery code accepted once), and
 * the login challenges the second step of a sign-in consumes.
 */
@Injectable()
export class MfaService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(MfaService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly encryption: EncryptionService,
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
    private readonly failures: FailedSignInsService,
    private readonly repo: MfaRepository,
  ) {}

  onModuleInit(): void {
    const unknown = unknownRoles(this.config.mfa.requiredRoles, ROLES);
    if (unknown.length > 0) {
      throw new ConfigError([
        `MFA_REQUIRED_ROLES names unknown role(s) ${unknown.map((r) => `"${r}"`).join(', ')} (roles: ${ROLES.join(', ')})`,
      ]);
    }
  }

  /**
   * TOTP secrets live under the internal key `bastion-totp`: tell key management how many each
   * version protects, and move secrets written before key management (`v1:…` under a key derived
   * from MASTER_KEY) to it, once, in one transaction.
   */
  async onApplicationBootstrap(): Promise<void> {
    this.encryption.registerUsage(INTERNAL_KEYS.totp, (manager) => this.repo.countSecretsByKeyVersion(manager));
    await this.encryption.whenReady();
    const migrated = await this.dataSource.transaction(async (manager) => {
      const legacy = await this.repo.lockLegacySecrets(manager);
      for (const row of legacy) {
        const secretEnc = this.encryption.rewrap(TOTP_PURPOSE, row.secretEnc, row.userId);
        await this.repo.replaceSecret(manager, row.userId, secretEnc);
      }
      if (legacy.length > 0) {
        await this.audit.record(manager, {
          action: 'mfa.totp_secrets_migrated',
          targetType: 'key',
          targetId: INTERNAL_KEYS.totp,
          details: { count: legacy.length, keyVersion: this.encryption.currentVersionOf(TOTP_PURPOSE) },
        });
      }
      return legacy.length;
    });
    if (migrated > 0) this.logger.log(`moved ${migrated} TOTP secret(s) to the key ${INTERNAL_KEYS.totp}`);
  }

  /** Whether one of these roles must use MFA (MFA_REQUIRED_ROLES). */
  requiredFor(roles: readonly string[]): boolean {
    return mfaEnrolmentRequired(roles, this.config.mfa.requiredRoles, false);
  }

  isEnabled(userId: string, manager?: EntityManager): Promise<boolean> {
    return this.repo.isEnabled(userId, manager);
  }

  async status(principal: Principal): Promise<MfaStatus> {
    const factor = await this.repo.findFactor(principal.userId);
    const enabled = factor?.activatedAt != null;
    const remaining = enabled ? await this.repo.countUnusedRecoveryCodes(principal.userId) : 0;
    return {
      enabled,
      enrolledAt: factor?.activatedAt ?? null,
      pendingEnrolment: factor != null && !enabled,
      recoveryCodesRemaining: remaining,
      required: this.requiredFor(principal.roles),
    };
  }

  /** Starts (or restarts) enrolment with a fresh secret; 409 while MFA is active. */
  async enrol(principal: Principal): Promise<TotpEnrolment> {
    assertSession(principal);
    const user = await this.users.getById(principal.userId);
    const secret = newTotpSecret();
    await this.dataSource.transaction(async (manager) => {
      const existing = await this.lockFactor(principal.userId, manager);
      if (existing?.activatedAt) throw alreadyEnabled();
      const secretEnc = this.encryption.encrypt(TOTP_PURPOSE, secret, principal.userId);
      if (existing) {
        await this.repo.restartEnrolment(manager, principal.userId, secretEnc);
      } else {
        await this.repo.insertFactor(manager, principal.userId, secretEnc);
      }
      await this.audit.record(manager, {
        action: 'mfa.totp_enrolment_started',
        targetType: 'user',
        targetId: principal.userId,
        details: { replacedPending: existing != null, keyVersion: this.encryption.currentVersionOf(TOTP_PURPOSE) },
      });
    });
    const otpauthUrl = totpUri(secret, user.email, TOTP_ISSUER);
    const qrCode = await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
    return { secret, otpauthUrl, qrCode };
  }

  /** Activates the pending secret with a first valid code; returns the recovery codes, once. */
  async activate(principal: Principal, code: string): Promise<string[]> {
    assertSession(principal);
    const userId = principal.userId;
    const outcome = await this.dataSource.transaction(async (manager) => {
      const factor = await this.lockFactor(userId, manager);
      if (!factor) {
        throw new AppException(
          ErrorCode.Conflict,
          'There is no TOTP enrolment to activate: start one with POST /api/v1/me/mfa/totp.',
        );
      }
      if (factor.activatedAt) throw alreadyEnabled();
      const check = verifyTotp(this.secretOf(factor), code, { afterStep: factor.lastUsedStep });
      if (!check.valid) {
        await this.audit.record(manager, {
          action: 'mfa.totp_activated',
          targetType: 'user',
          targetId: userId,
          outcome: 'failure',
          details: { reason: check.reason },
        });
        return { ok: false as const };
      }
      await this.repo.activateFactor(manager, userId, check.step);
      const codes = await this.replaceRecoveryCodes(userId, manager);
      await this.activity.record({ userId, type: 'mfa_enabled', details: { method: 'totp' } }, manager);
      await this.audit.record(manager, {
        action: 'mfa.totp_activated',
        targetType: 'user',
        targetId: userId,
        details: { backupCodesIssued: codes.length, drift: check.drift },
      });
      return { ok: true as const, codes };
    });
    if (!outcome.ok) throw invalidCode();
    return outcome.codes;
  }

  /** Turns MFA off: needs the password and a TOTP or recovery code. 404 when MFA is not active. */
  async disable(principal: Principal, password: string, code: string): Promise<void> {
    assertSession(principal);
    const userId = principal.userId;
    if (!(await this.isEnabled(userId))) {
      throw new AppException(ErrorCode.NotFound, 'MFA is not active on your account.');
    }
    await this.credentials.confirmPassword(userId, password, {
      action: 'mfa.totp_disabled',
      field: 'password',
    });
    const outcome = await this.dataSource.transaction(async (manager) => {
      const check = await this.checkCode(userId, code, manager);
      if (!check.ok) return check;
      await this.repo.deleteFactor(manager, userId);
      await this.activity.record(
        { userId, type: 'mfa_disabled', details: { method: 'totp', with: check.method } },
        manager,
      );
      await this.audit.record(manager, {
        action: 'mfa.totp_disabled',
        targetType: 'user',
        targetId: userId,
        details: { mfa: check.method },
      });
      return check;
    });
    if (!outcome.ok) {
      // A wrong code here is a wrong second factor like one at sign-in: it counts towards the lockout.
      await this.failures.recordReconfirmationFailure(userId, 'mfa_failed', 'mfa.totp_disabled', {
        failure: outcome.failure,
      });
      throw invalidCode();
    }
  }

  /**
   * Re-confirms a sensitive change of an MFA user with a fresh code (TOTP or recovery code, spent
   * here); a wrong one counts towards the lockout like a wrong code at sign-in. Answers 400 on `code`.
   */
  async confirmCode(userId: string, code: string, action: string): Promise<void> {
    const check = await this.dataSource.transaction((manager) => this.checkCode(userId, code, manager));
    if (check.ok) return;
    await this.failures.recordReconfirmationFailure(userId, 'mfa_failed', action, { failure: check.failure });
    throw invalidCode();
  }

  /**
   * Checks a second factor inside the caller's transaction and consumes it: the TOTP step becomes
   * the last used one (a replay, or any older code, is refused), or the recovery code is marked used.
   * The authenticator row is locked, so two concurrent requests cannot both spend one code.
   */
  async checkCode(userId: string, code: string, manager: EntityManager): Promise<CodeCheck> {
    const factor = await this.lockFactor(userId, manager);
    if (!factor?.activatedAt) return { ok: false, failure: 'not_enabled' };

    if (normalizeTotpCode(code) !== null) {
      const check = verifyTotp(this.secretOf(factor), code, { afterStep: factor.lastUsedStep });
      if (!check.valid) return { ok: false, failure: check.reason };
      const secretEnc = this.encryption.needsRewrap(factor.secretEnc, TOTP_PURPOSE)
        ? this.encryption.rewrap(TOTP_PURPOSE, factor.secretEnc, userId)
        : factor.secretEnc;
      await this.repo.recordTotpUse(manager, userId, check.step, secretEnc);
      return { ok: true, method: 'totp' };
    }

    const normalized = normalizeRecoveryCode(code);
    if (normalized === null) return { ok: false, failure: 'malformed' };
    const codeHash = hashRecoveryCode(userId, normalized);
    if (!(await this.repo.spendRecoveryCode(manager, userId, codeHash))) {
      const known = await this.repo.recoveryCodeExists(manager, userId, codeHash);
      return { ok: false, failure: known ? 'replayed' : 'mismatch' };
    }
    return {
      ok: true,
      method: 'recovery_code',
      recoveryCodesRemaining: await this.repo.countUnusedRecoveryCodes(userId, manager),
    };
  }

  /** Opens the second step of a login; old challenges of the user are cleaned up on the way. */
  async createChallenge(
    userId: string,
    manager: EntityManager,
  ): Promise<{ id: string; token: string; expiresIn: number }> {
    const now = Date.now();
    await this.repo.deleteChallengesExpiredBefore(manager, userId, new Date(now - CHALLENGE_RETENTION_MS));
    const { token, hash } = newMfaToken();
    const challenge = await this.repo.insertChallenge(manager, {
      userId,
      tokenHash: hash,
      expiresAt: new Date(now + MFA_CHALLENGE_TTL_SECONDS * 1000),
      attempts: 0,
      usedAt: null,
      ip: RequestContexts.current()?.ip ?? null,
    });
    return { id: challenge.id, token, expiresIn: MFA_CHALLENGE_TTL_SECONDS };
  }

  /** The challenge of a token, locked for the rest of the transaction; null for an unknown token. */
  async lockChallenge(token: string, manager: EntityManager): Promise<MfaChallenge | null> {
    const hash = parseMfaToken(token);
    if (!hash) return null;
    return this.repo.lockChallenge(manager, hash);
  }

  /** Records a wrong code; `burn` ends the challenge (last attempt, or the account just locked). */
  async recordAttempt(challengeId: string, attempts: number, burn: boolean, manager: EntityManager): Promise<void> {
    await this.repo.recordAttempt(manager, challengeId, attempts, burn);
  }

  /** Ends a challenge: it succeeded, or can no longer succeed. */
  async closeChallenge(challengeId: string, manager: EntityManager): Promise<void> {
    await this.repo.closeChallenge(manager, challengeId);
  }

  private lockFactor(userId: string, manager: EntityManager): Promise<TotpFactor | null> {
    return this.repo.lockFactor(manager, userId);
  }

  private secretOf(factor: TotpFactor): string {
    try {
      return this.encryption.decryptText(TOTP_PURPOSE, factor.secretEnc, factor.userId);
    } catch (err) {
      // A secret that no longer decrypts is an operational fault (a key version was dropped), not a wrong code.
      this.logger.error(`TOTP secret of user ${factor.userId} cannot be decrypted: ${String(err)}`);
      throw err;
    }
  }

  private async replaceRecoveryCodes(userId: string, manager: EntityManager): Promise<string[]> {
    const codes = generateRecoveryCodes();
    await this.repo.replaceRecoveryCodes(
      manager,
      userId,
      codes.map((code) => hashRecoveryCode(userId, normalizeRecoveryCode(code)!)),
    );
    return codes;
  }
}

const alreadyEnabled = (): AppException =>
  new AppException(
    ErrorCode.MfaAlreadyEnabled,
    'MFA is already active: disable it first to enrol a new authenticator.',
  );

/** MFA is managed from a signed-in session, never with an API key. */
function assertSession(principal: Principal): void {
  if (principal.apiKeyId || !principal.sessionId) {
    throw new AppException(
      ErrorCode.Forbidden,
      'MFA can only be managed from a signed-in session, not with an API key.',
    );
  }
}
