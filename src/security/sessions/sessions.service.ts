import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, IsNull } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { RequestContexts } from '../../common/http/request-context';
import { ActivityService } from '../../users/activity/activity.service';
import { GROUP_PERMISSIONS_OF_U } from '../../users/groups/groups.service';
import { AuditService } from '../audit/audit.service';
import { type SessionSignal, ThreatSignals } from '../threats/threat.events';
import { Session } from './session.entity';
import { TokenService, type TokenPair } from './token.service';

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
}

/** Writing last-seen on every request would cost a write per read; once a minute is enough. */
const TOUCH_INTERVAL_MS = 60_000;

const invalidRefresh = (): AppException =>
  new AppException(ErrorCode.InvalidToken, 'The refresh token is invalid, expired or already used.');

/**
 * Server-side sessions: creation at login, refresh-token rotation with reuse detection,
 * revocation, idle and absolute expiry. A revoked session stops working on the next request,
 * because the guard reads the session on every request.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly activity: ActivityService,
    private readonly events: EventEmitter2,
  ) {}

  async create(userId: string, manager: EntityManager): Promise<{ session: Session; tokens: TokenPair }> {
    const ctx = RequestContexts.current();
    const now = new Date();
    const repo = manager.getRepository(Session);
    const session = repo.create({
      userId,
      refreshGeneration: 0,
      refreshHash: ''.padEnd(64, '0'),
      rotatedAt: now,
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent ?? null,
      lastSeenAt: now,
      idleExpiresAt: new Date(now.getTime() + this.config.auth.sessionIdleSeconds * 1000),
      absoluteExpiresAt: new Date(now.getTime() + this.config.auth.sessionAbsoluteSeconds * 1000),
    });
    await repo.save(session);
    session.refreshHash = TokenService.hash(this.tokens.refreshToken(session.id, 0));
    await repo.update({ id: session.id }, { refreshHash: session.refreshHash });
    return { session, tokens: this.tokens.pair(userId, session.id, 0, now) };
  }

  /**
   * Rotates the pair. The token of the previous generation, presented within the grace window,
   * gets the same new pair (two tabs refreshing at once); presented later, or any older token,
   * is a reuse: the whole session is revoked (OWASP refresh-token rotation).
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const parsed = this.tokens.parseRefresh(refreshToken);
    if (!parsed) throw invalidRefresh();
    const outcome = await this.dataSource.transaction(async (manager) => {
      const session = await manager
        .getRepository(Session)
        .createQueryBuilder('s')
        .setLock('pessimistic_write')
        .where('s.id = :id', { id: parsed.sessionId })
        .getOne();
      const now = new Date();
      if (!session || !this.isLive(session, now)) return { kind: 'invalid' as const };
      const user = await manager.query<{ status: string }[]>('SELECT status FROM users WHERE id = $1', [
        session.userId,
      ]);
      if (user[0]?.status !== 'active') return { kind: 'invalid' as const };

      if (parsed.generation === session.refreshGeneration) {
        if (TokenService.hash(refreshToken) !== session.refreshHash) return { kind: 'invalid' as const };
        const generation = session.refreshGeneration + 1;
        await manager.getRepository(Session).update(
          { id: session.id },
          {
            refreshGeneration: generation,
            refreshHash: TokenService.hash(this.tokens.refreshToken(session.id, generation)),
            rotatedAt: now,
            lastSeenAt: now,
            idleExpiresAt: new Date(now.getTime() + this.config.auth.sessionIdleSeconds * 1000),
          },
        );
        await this.activity.record(
          { userId: session.userId, type: 'token_refreshed', details: { sessionId: session.id } },
          manager,
        );
        return { kind: 'ok' as const, tokens: this.tokens.pair(session.userId, session.id, generation, now) };
      }

      const graceMs = this.config.auth.refreshGraceSeconds * 1000;
      if (
        parsed.generation === session.refreshGeneration - 1 &&
        now.getTime() - session.rotatedAt.getTime() <= graceMs
      ) {
        return {
          kind: 'ok' as const,
          tokens: this.tokens.pair(session.userId, session.id, session.refreshGeneration, session.rotatedAt),
        };
      }

      // An old token came back: whoever holds it, the session can no longer be trusted.
      await this.revokeWith(manager, session, 'refresh_token_reuse', now);
      await this.activity.record(
        {
          userId: session.userId,
          type: 'refresh_token_reused',
          details: { sessionId: session.id, generation: parsed.generation },
        },
        manager,
      );
      await this.audit.record(manager, {
        action: 'session.refresh_token_reused',
        targetType: 'session',
        targetId: session.id,
        outcome: 'denied',
        actor: { type: 'user', id: session.userId, userId: session.userId },
        details: {
          userId: session.userId,
          presentedGeneration: parsed.generation,
          currentGeneration: session.refreshGeneration,
        },
      });
      return { kind: 'reused' as const, signal: { userId: session.userId, sessionId: session.id } };
    });
    if (outcome.kind === 'reused') {
      this.events.emit(ThreatSignals.refreshTokenReused, {
        ...outcome.signal,
        ip: RequestContexts.current()?.ip,
      } satisfies SessionSignal);
    }
    if (outcome.kind !== 'ok') throw invalidRefresh();
    return outcome.tokens;
  }

  /** The session and its user as the guard sees them; null when the session does not exist. */
  async snapshot(sessionId: string): Promise<SessionSnapshot | null> {
    return (await this.snapshots([sessionId])).get(sessionId) ?? null;
  }

  /**
   * {@link snapshot} for many sessions in one query (the live gateway re-checks every open socket
   * this way); sessions that do not exist are absent from the map.
   */
  async snapshots(sessionIds: readonly string[]): Promise<Map<string, SessionSnapshot>> {
    if (sessionIds.length === 0) return new Map();
    const rows = await this.dataSource.query<
      {
        id: string;
        user_id: string;
        email: string;
        status: string;
        roles: string[];
        group_permissions: string[];
        password_changed_at: Date | null;
        last_seen_at: Date;
        live: boolean;
        revoked: boolean;
        mfa_enabled: boolean;
      }[]
    >(
      `SELECT s.id, s.user_id, u.email, u.status, u.roles, s.last_seen_at, c.password_changed_at,
              (s.revoked_at IS NULL AND s.idle_expires_at > now() AND s.absolute_expires_at > now()) AS live,
              (s.revoked_at IS NOT NULL) AS revoked,
              EXISTS (SELECT 1 FROM mfa_totp m WHERE m.user_id = u.id AND m.activated_at IS NOT NULL) AS mfa_enabled,
              ${GROUP_PERMISSIONS_OF_U} AS group_permissions
         FROM sessions s
         JOIN users u ON u.id = s.user_id
         LEFT JOIN credentials c ON c.user_id = u.id
        WHERE s.id = ANY($1::uuid[])`,
      [sessionIds],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
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
        },
      ]),
    );
  }

  /** Marks the session used, which pushes its idle expiry; at most once a minute per session. */
  async touch(snapshot: SessionSnapshot): Promise<void> {
    const now = Date.now();
    if (now - snapshot.lastSeenAt.getTime() < TOUCH_INTERVAL_MS) return;
    await this.dataSource.query(
      `UPDATE sessions SET last_seen_at = now(), idle_expires_at = LEAST(now() + make_interval(secs => $2), absolute_expires_at)
        WHERE id = $1 AND revoked_at IS NULL`,
      [snapshot.sessionId, this.config.auth.sessionIdleSeconds],
    );
  }

  listActive(userId: string): Promise<Session[]> {
    return this.dataSource
      .getRepository(Session)
      .createQueryBuilder('s')
      .where('s.user_id = :userId AND s.revoked_at IS NULL', { userId })
      .andWhere('s.idle_expires_at > now() AND s.absolute_expires_at > now()')
      .orderBy('s.last_seen_at', 'DESC')
      .getMany();
  }

  /** Revokes one session of the user; 404 when it is not theirs or not active. */
  async revokeOwn(userId: string, sessionId: string, reason: string, manager: EntityManager): Promise<void> {
    const session = await manager.getRepository(Session).findOneBy({ id: sessionId, userId, revokedAt: IsNull() });
    if (!session) throw AppException.notFound('session');
    await this.revokeWith(manager, session, reason, new Date());
  }

  /** Revokes every active session of the user but `exceptSessionId`; returns how many. */
  async revokeAll(userId: string, reason: string, manager: EntityManager, exceptSessionId?: string): Promise<number> {
    const result = await manager.query<unknown[]>(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid) RETURNING id`,
      [userId, reason, exceptSessionId ?? null],
    );
    return (result[0] as unknown[] | undefined)?.length ?? 0;
  }

  private async revokeWith(manager: EntityManager, session: Session, reason: string, now: Date): Promise<void> {
    await manager.getRepository(Session).update({ id: session.id }, { revokedAt: now, revokedReason: reason });
  }

  private isLive(session: Session, now: Date): boolean {
    return session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
  }
}
