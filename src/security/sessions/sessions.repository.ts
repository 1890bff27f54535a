import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { GROUP_PERMISSIONS_OF_U, GROUPS_OF_U } from '../../users/groups/groups.repository';
import { MFA_ENABLED_OF_U } from '../mfa/mfa.repository';
import { Session } from './session.entity';

/** The session's user as /me shows it, read by the guard's one query so /me needs no second one. */
export interface SessionAccount {
  firstName: string;
  lastName: string;
  statusReason: string | null;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** The sign-in lock in force, if any. */
  lockedUntil: Date | null;
  groups: { id: string; name: string }[];
}

/** What the guard needs to know about a session and its user, read in one query per request. */
export interface SessionSnapshot {
  sessionId: string;
  userId: string;
  email: string;
  status: string;
  roles: string[];
  groupPermissions: string[];
  passwordChangedAt: Date | null;
  lastSeenAt: Date;
  active: boolean;
  /** The session was revoked (logout, revocation, reuse); `active` is also false once it expired. */
  revoked: boolean;
  /** TOTP is active for the user. */
  mfaEnabled: boolean;
  account: SessionAccount;
}

/** What a new session row is made of (the rest are defaults). */
export type NewSession = Pick<
  Session,
  | 'id'
  | 'userId'
  | 'refreshGeneration'
  | 'refreshHash'
  | 'rotatedAt'
  | 'ip'
  | 'userAgent'
  | 'lastSeenAt'
  | 'idleExpiresAt'
  | 'absoluteExpiresAt'
>;

/** One row of the snapshot query. */
interface RawSessionSnapshot {
  id: string;
  user_id: string;
  email: string;
  status: string;
  status_reason: string | null;
  first_name: string;
  last_name: string;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
  roles: string[];
  group_permissions: string[];
  groups: { id: string; name: string }[];
  password_changed_at: Date | null;
  locked_until: Date | null;
  last_seen_at: Date;
  live: boolean;
  revoked: boolean;
  mfa_enabled: boolean;
}

const SNAPSHOT_SQL = `SELECT s.id, s.user_id, u.email, u.status, u.status_reason, u.first_name, u.last_name,
              u.last_login_at, u.created_at, u.updated_at, u.roles, s.last_seen_at, c.password_changed_at,
              CASE WHEN c.locked_until > now() THEN c.locked_until END AS locked_until,
              (s.revoked_at IS NULL AND s.idle_expires_at > now() AND s.absolute_expires_at > now()) AS live,
              (s.revoked_at IS NOT NULL) AS revoked,
              ${MFA_ENABLED_OF_U} AS mfa_enabled,
              ${GROUP_PERMISSIONS_OF_U} AS group_permissions,
              ${GROUPS_OF_U} AS groups
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         LEFT JOIN credentials c ON c.user_id = u.id
        WHERE s.id = ANY($1::uuid[])`;

function mapSnapshot(r: RawSessionSnapshot): SessionSnapshot {
  return {
    sessionId: r.id,
    userId: r.user_id,
    email: r.email,
    status: r.status,
    roles: r.roles,
    groupPermissions: r.group_permissions,
    passwordChangedAt: r.password_changed_at,
    lastSeenAt: r.last_seen_at,
    active: r.live,
    revoked: r.revoked,
    mfaEnabled: r.mfa_enabled,
    account: {
      firstName: r.first_name,
      lastName: r.last_name,
      statusReason: r.status_reason,
      lastLoginAt: r.last_login_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      lockedUntil: r.locked_until,
      groups: r.groups,
    },
  };
}

/**
 * The SQL of sessions. The guard's snapshot query runs on every authenticated request, so it
 * goes to the driver's `pg` pool directly (named prepared statement, no TypeORM query runner,
 * subscribers or logger around it): in a CPU profile of GET /me that wrapper cost more than the
 * statement's own parsing. Everything else goes through TypeORM with the caller's manager.
 */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** The pool TypeORM opened (one connection in embedded mode: the same queue as everything else). */
  private get pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }

  /** Sessions and their users as the guard sees them; sessions that do not exist are absent. */
  async snapshots(sessionIds: readonly string[]): Promise<Map<string, SessionSnapshot>> {
    if (sessionIds.length === 0) return new Map();
    const { rows } = await this.pool.query<RawSessionSnapshot>({
      name: 'bastion_session_snapshot',
      text: SNAPSHOT_SQL,
      values: [sessionIds],
    });
    return new Map(rows.map((r) => [r.id, mapSnapshot(r)]));
  }

  /**
   * A new session row, its id chosen by the caller: one plain INSERT (every sign-in runs it; TypeORM's
   * insert builder cost more CPU than the statement, bench:profile).
   */
  async insert(manager: EntityManager, fields: NewSession): Promise<Session> {
    const [row] = await manager.query<{ created_at: Date }[]>(
      `INSERT INTO sessions (id, user_id, refresh_generation, refresh_hash, rotated_at, ip, user_agent, last_seen_at,
                             idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING created_at`,
      [
        fields.id,
        fields.userId,
        fields.refreshGeneration,
        fields.refreshHash,
        fields.rotatedAt,
        fields.ip,
        fields.userAgent,
        fields.lastSeenAt,
        fields.idleExpiresAt,
        fields.absoluteExpiresAt,
      ],
    );
    return Object.assign(new Session(), fields, { createdAt: row.created_at, revokedAt: null, revokedReason: null });
  }

  /** The session, locked for the rest of the transaction (refresh-token rotation). */
  lockForUpdate(manager: EntityManager, sessionId: string): Promise<Session | null> {
    return manager
      .getRepository(Session)
      .createQueryBuilder('s')
      .setLock('pessimistic_write')
      .where('s.id = :id', { id: sessionId })
      .getOne();
  }

  /** Whether the session's user may still refresh (status `active`). */
  async userIsActive(manager: EntityManager, userId: string): Promise<boolean> {
    const rows = await manager.query<{ status: string }[]>('SELECT status FROM users WHERE id = $1', [userId]);
    return rows[0]?.status === 'active';
  }

  /** A new refresh generation: the hash of its token, and the idle expiry pushed from `now`. */
  async rotate(
    manager: EntityManager,
    sessionId: string,
    change: { generation: number; refreshHash: string; now: Date; idleExpiresAt: Date },
  ): Promise<void> {
    await manager.getRepository(Session).update(
      { id: sessionId },
      {
        refreshGeneration: change.generation,
        refreshHash: change.refreshHash,
        rotatedAt: change.now,
        lastSeenAt: change.now,
        idleExpiresAt: change.idleExpiresAt,
      },
    );
  }

  /** Marks the session used now and pushes its idle expiry (never past the absolute one). */
  async touch(sessionId: string, idleSeconds: number): Promise<void> {
    await this.pool.query({
      name: 'bastion_session_touch',
      text: `UPDATE sessions SET last_seen_at = now(), idle_expires_at = LEAST(now() + make_interval(secs => $2), absolute_expires_at)
              WHERE id = $1 AND revoked_at IS NULL`,
      values: [sessionId, idleSeconds],
    });
  }

  /** The user's live sessions, most recently used first. */
  listActive(userId: string): Promise<Session[]> {
    return this.dataSource
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.user_id = :userId AND s.revoked_at IS NULL', { userId })
      .andWhere('s.idle_expires_at > now() AND s.absolute_expires_at > now()')
      .orderBy('s.last_seen_at', 'DESC')
      .getMany();
  }

  /** One not-yet-revoked session of the user; null when it is someone else's or already revoked. */
  findUnrevokedOf(manager: EntityManager, userId: string, sessionId: string): Promise<Session | null> {
    return this.m(manager).getRepository(Session).findOneBy({ id: sessionId, userId, revokedAt: IsNull() });
  }

  async revoke(manager: EntityManager, sessionId: string, reason: string, now: Date): Promise<void> {
    await manager.getRepository(Session).update({ id: sessionId }, { revokedAt: now, revokedReason: reason });
  }

  /** Revokes every unrevoked session of the user but `exceptSessionId`; returns how many. */
  async revokeAllOf(manager: EntityManager, userId: string, reason: string, exceptSessionId?: string): Promise<number> {
    const result = await manager.query<unknown[]>(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid) RETURNING id`,
      [userId, reason, exceptSessionId ?? null],
    );
    return (result[0] as unknown[] | undefined)?.length ?? 0;
  }
}
