import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Credential } from './credential.entity';
import type { LockoutState } from './lockout';
import { PasswordHistory } from './password-history.entity';

/**
 * Every statement on `credentials` and `password_history`: sign-in (lock the row for update,
 * record a failure, clear the lockout), password changes and the history rule, admin unlocks.
 * The services that decide (sign-in, failed attempts, user administration) call these methods
 * with their transaction's manager.
 */
@Injectable()
export class CredentialsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  find(userId: string, manager?: EntityManager): Promise<Credential | null> {
    return this.m(manager).getRepository(Credential).findOneBy({ userId });
  }

  /** The credential, locked for the rest of the transaction: concurrent attempts must each count. */
  lockForUpdate(manager: EntityManager, userId: string): Promise<Credential | null> {
    return manager
      .getRepository(Credential)
      .createQueryBuilder('c')
      .setLock('pessimistic_write')
      .where('c.user_id = :id', { id: userId })
      .getOne();
  }

  /** Sign-in locks in force at `now` (a `locked_until` in the future), by user id. */
  async locksInForce(userIds: readonly string[], now: Date, manager?: EntityManager): Promise<Map<string, Date>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.m(manager).query<{ user_id: string; locked_until: Date }[]>(
      `SELECT user_id, locked_until FROM credentials WHERE user_id = ANY($1::uuid[]) AND locked_until > $2`,
      [userIds, now],
    );
    return new Map(rows.map((r) => [r.user_id, r.locked_until]));
  }

  /** Writes the lockout counters after a failed attempt (computed by `lockout.afterFailure`). */
  async recordFailure(manager: EntityManager, userId: string, next: LockoutState): Promise<void> {
    await manager
      .getRepository(Credential)
      .update(
        { userId },
        { failedAttempts: next.failedAttempts, lockLevel: next.lockLevel, lockedUntil: next.lockedUntil },
      );
  }

  /** Clears the failure count, the escalation and any lock (a success, an unlock, a reactivation). */
  async clearLockout(manager: EntityManager, userId: string): Promise<void> {
    await manager.getRepository(Credential).update({ userId }, { failedAttempts: 0, lockLevel: 0, lockedUntil: null });
  }

  /** Sets the hash (creating the row for a new user), resets the lockout, and keeps the last `keep` in the history. */
  async setPassword(manager: EntityManager, userId: string, hash: string, now: Date, keep: number): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(Credential)
      .values({
        userId,
        passwordHash: hash,
        passwordChangedAt: now,
        failedAttempts: 0,
        lockLevel: 0,
        lockedUntil: null,
      })
      .orUpdate(['password_hash', 'password_changed_at', 'failed_attempts', 'lock_level', 'locked_until'], ['user_id'])
      .execute();
    await manager.getRepository(PasswordHistory).insert({ userId, passwordHash: hash });
    await manager.query(
      `DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (
         SELECT id FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2)`,
      [userId, keep],
    );
  }

  /** A new hash of the same password (parameters changed); the password's age is unchanged. */
  async replaceHash(manager: EntityManager, userId: string, hash: string): Promise<void> {
    await manager.getRepository(Credential).update({ userId }, { passwordHash: hash });
  }

  /** The user's most recent password hashes, newest first. */
  async recentHashes(userId: string, limit: number, manager?: EntityManager): Promise<string[]> {
    const rows = await this.m(manager)
      .getRepository(PasswordHistory)
      .find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
    return rows.map((r) => r.passwordHash);
  }
}
