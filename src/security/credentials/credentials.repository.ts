import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { User } from '../../users/users/user.entity';
import { mapRawUser, type RawUser } from '../../users/users/users.repository';
import { MFA_ENABLED_OF_U } from '../mfa/mfa.repository';
import { Credential } from './credential.entity';
import type { LockoutState } from './lockout';
import { PasswordHistory } from './password-history.entity';

/** A user row with its credential's columns (`c_`), as the sign-in statements read them. */
interface RawSignInRow extends RawUser {
  c_user_id: string | null;
  c_password_hash: string;
  c_password_changed_at: Date;
  c_failed_attempts: number;
  c_lock_level: number;
  c_locked_until: Date | null;
}

/** What sign-in reads of a user: the user and its credential (null: no password set). */
export interface SignInRecord {
  user: User;
  credential: Credential | null;
}

const SIGN_IN_COLUMNS = `u.id, u.email, u.first_name, u.last_name, u.status, u.status_reason, u.roles, u.last_login_at,
       u.created_at, u.updated_at, c.user_id AS c_user_id, c.password_hash AS c_password_hash,
       c.password_changed_at AS c_password_changed_at, c.failed_attempts AS c_failed_attempts,
       c.lock_level AS c_lock_level, c.locked_until AS c_locked_until`;

function mapSignIn(manager: EntityManager, r: RawSignInRow): SignInRecord {
  const user = mapRawUser(r);
  const credential =
    r.c_user_id === null
      ? null
      : manager.getRepository(Credential).create({
          userId: r.c_user_id,
          passwordHash: r.c_password_hash,
          passwordChangedAt: r.c_password_changed_at,
          failedAttempts: r.c_failed_attempts,
          lockLevel: r.c_lock_level,
          lockedUntil: r.c_locked_until,
        });
  return { user, credential };
}

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

  /**
   * The user with this (normalised) email and its credential, in one statement: what sign-in
   * reads before it verifies the password. Raw SQL on purpose: sign-in is the busiest write path
   * and TypeORM's builder cost more CPU than the statement itself (bench:auth, issue 15).
   */
  async signInCandidate(email: string): Promise<SignInRecord | null> {
    const manager = this.dataSource.manager;
    const [row] = await manager.query<RawSignInRow[]>(
      `SELECT ${SIGN_IN_COLUMNS} FROM users u LEFT JOIN credentials c ON c.user_id = u.id WHERE u.email = $1`,
      [email],
    );
    return row ? mapSignIn(manager, row) : null;
  }

  /**
   * The credential locked for the rest of the transaction, with its user as it is now and whether
   * MFA is active: the three reads of a sign-in's transaction in one statement (only the
   * credential row is locked, as before).
   */
  async lockForSignIn(
    manager: EntityManager,
    userId: string,
  ): Promise<(SignInRecord & { credential: Credential; mfaEnabled: boolean }) | null> {
    const [row] = await manager.query<(RawSignInRow & { mfa_enabled: boolean })[]>(
      `SELECT ${SIGN_IN_COLUMNS},
              ${MFA_ENABLED_OF_U} AS mfa_enabled
         FROM credentials c JOIN users u ON u.id = c.user_id
        WHERE c.user_id = $1
          FOR UPDATE OF c`,
      [userId],
    );
    if (!row) return null;
    const { user, credential } = mapSignIn(manager, row);
    return credential ? { user, credential, mfaEnabled: row.mfa_enabled } : null;
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

  /**
   * Marks a completed sign-in: the user's `last_login_at`, and the credential's failure count,
   * escalation and lock cleared when there is anything to clear (`cleared`), in one statement.
   */
  async recordSignIn(manager: EntityManager, userId: string, now: Date, clearLockout: boolean): Promise<void> {
    await manager.query(
      clearLockout
        ? `WITH cleared AS (UPDATE credentials SET failed_attempts = 0, lock_level = 0, locked_until = NULL WHERE user_id = $1)
           UPDATE users SET last_login_at = $2, updated_at = now() WHERE id = $1`
        : 'UPDATE users SET last_login_at = $2, updated_at = now() WHERE id = $1',
      [userId, now],
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
