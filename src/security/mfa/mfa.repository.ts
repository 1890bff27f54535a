import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, IsNull, LessThan } from 'typeorm';
import { MfaChallenge } from './mfa-challenge.entity';
import { RecoveryCode } from './recovery-code.entity';
import { TotpFactor } from './totp-factor.entity';

/**
 * SQL for whether TOTP is active for `u`, the users row in the surrounding query (a boolean): one
 * definition for the guard's snapshot, API-key authentication and /me.
 */
export const MFA_ENABLED_OF_U = `EXISTS (SELECT 1 FROM mfa_totp t WHERE t.user_id = u.id AND t.activated_at IS NOT NULL)`;

/** A TOTP secret not yet under key management (`v1:…`), as read for its migration. */
interface RawLegacySecret {
  user_id: string;
  secret_enc: string;
}

export interface LegacySecret {
  userId: string;
  secretEnc: string;
}

function mapLegacySecret(r: RawLegacySecret): LegacySecret {
  return { userId: r.user_id, secretEnc: r.secret_enc };
}

/** Every statement on `mfa_totp`, `mfa_recovery_codes` and `mfa_challenges`. */
@Injectable()
export class MfaRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** How many TOTP secrets each key version protects (`legacy` for secrets before key management). */
  async countSecretsByKeyVersion(manager: EntityManager): Promise<Record<string, number>> {
    const rows = await manager.query<{ v: string | null; n: string }[]>(
      `SELECT CASE WHEN secret_enc LIKE 'bastion:v%' THEN split_part(secret_enc, ':', 2) ELSE 'legacy' END AS v,
                count(*) AS n
           FROM mfa_totp GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [String(r.v).replace(/^v/, ''), Number(r.n)]));
  }

  /** Secrets written before key management, locked until the transaction ends. */
  async lockLegacySecrets(manager: EntityManager): Promise<LegacySecret[]> {
    const rows = await manager.query<RawLegacySecret[]>(
      `SELECT user_id, secret_enc FROM mfa_totp WHERE secret_enc NOT LIKE 'bastion:%' FOR UPDATE`,
    );
    return rows.map(mapLegacySecret);
  }

  async replaceSecret(manager: EntityManager, userId: string, secretEnc: string): Promise<void> {
    await manager.query('UPDATE mfa_totp SET secret_enc = $2 WHERE user_id = $1', [userId, secretEnc]);
  }

  async isEnabled(userId: string, manager?: EntityManager): Promise<boolean> {
    const rows = await this.m(manager).query<unknown[]>(
      'SELECT 1 FROM mfa_totp WHERE user_id = $1 AND activated_at IS NOT NULL',
      [userId],
    );
    return rows.length > 0;
  }

  findFactor(userId: string): Promise<TotpFactor | null> {
    return this.dataSource.getRepository(TotpFactor).findOneBy({ userId });
  }

  /** The user's authenticator, locked for the rest of the transaction. */
  lockFactor(manager: EntityManager, userId: string): Promise<TotpFactor | null> {
    return manager
      .getRepository(TotpFactor)
      .createQueryBuilder('t')
      .setLock('pessimistic_write')
      .where('t.user_id = :userId', { userId })
      .getOne();
  }

  /** A pending enrolment restarts with a new secret. */
  async restartEnrolment(manager: EntityManager, userId: string, secretEnc: string): Promise<void> {
    await manager
      .getRepository(TotpFactor)
      .update({ userId }, { secretEnc, createdAt: new Date(), lastUsedStep: null });
  }

  async insertFactor(manager: EntityManager, userId: string, secretEnc: string): Promise<void> {
    await manager.getRepository(TotpFactor).insert({ userId, secretEnc });
  }

  async activateFactor(manager: EntityManager, userId: string, step: number): Promise<void> {
    await manager.getRepository(TotpFactor).update({ userId }, { activatedAt: new Date(), lastUsedStep: step });
  }

  /** Records the TOTP step just accepted (and the secret, re-wrapped under the current key when it was not). */
  async recordTotpUse(manager: EntityManager, userId: string, step: number, secretEnc: string): Promise<void> {
    await manager.getRepository(TotpFactor).update({ userId }, { lastUsedStep: step, secretEnc });
  }

  /** Removes the authenticator and its recovery codes. */
  async deleteFactor(manager: EntityManager, userId: string): Promise<void> {
    await manager.getRepository(RecoveryCode).delete({ userId });
    await manager.getRepository(TotpFactor).delete({ userId });
  }

  countUnusedRecoveryCodes(userId: string, manager?: EntityManager): Promise<number> {
    return this.m(manager).getRepository(RecoveryCode).countBy({ userId, usedAt: IsNull() });
  }

  /** Marks an unused recovery code used; false when there is no such unused code. */
  async spendRecoveryCode(manager: EntityManager, userId: string, codeHash: string): Promise<boolean> {
    const spent = await manager
      .getRepository(RecoveryCode)
      .update({ userId, codeHash, usedAt: IsNull() }, { usedAt: new Date() });
    return spent.affected === 1;
  }

  recoveryCodeExists(manager: EntityManager, userId: string, codeHash: string): Promise<boolean> {
    return manager.getRepository(RecoveryCode).existsBy({ userId, codeHash });
  }

  /** Replaces the user's recovery codes with these hashes. */
  async replaceRecoveryCodes(manager: EntityManager, userId: string, codeHashes: string[]): Promise<void> {
    const repo = manager.getRepository(RecoveryCode);
    await repo.delete({ userId });
    await repo.insert(codeHashes.map((codeHash) => ({ userId, codeHash })));
  }

  /** Deletes the user's challenges that expired before `before`. */
  async deleteChallengesExpiredBefore(manager: EntityManager, userId: string, before: Date): Promise<void> {
    await manager.getRepository(MfaChallenge).delete({ userId, expiresAt: LessThan(before) });
  }

  async insertChallenge(
    manager: EntityManager,
    data: Pick<MfaChallenge, 'userId' | 'tokenHash' | 'expiresAt' | 'attempts' | 'usedAt' | 'ip'>,
  ): Promise<MfaChallenge> {
    const repo = manager.getRepository(MfaChallenge);
    const challenge = repo.create(data);
    await repo.save(challenge);
    return challenge;
  }

  /** The challenge with this token hash, locked for the rest of the transaction. */
  lockChallenge(manager: EntityManager, tokenHash: string): Promise<MfaChallenge | null> {
    return manager
      .getRepository(MfaChallenge)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.token_hash = :hash', { hash: tokenHash })
      .getOne();
  }

  async recordAttempt(manager: EntityManager, challengeId: string, attempts: number, burn: boolean): Promise<void> {
    await manager
      .getRepository(MfaChallenge)
      .update({ id: challengeId }, { attempts, ...(burn ? { usedAt: new Date() } : {}) });
  }

  async closeChallenge(manager: EntityManager, challengeId: string): Promise<void> {
    await manager.getRepository(MfaChallenge).update({ id: challengeId, usedAt: IsNull() }, { usedAt: new Date() });
  }
}
