import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { RequestContexts } from '../../common/http/request-context';
import { ActivityService } from '../../users/activity/activity.service';
import { AuditService } from '../audit/audit.service';
import { type SessionSignal, ThreatSignals } from '../threats/threat.events';
import type { Session } from './session.entity';
import { type SessionSnapshot, SessionsRepository } from './sessions.repository';

export type { SessionAccount, SessionSnapshot } from './sessions.repository';
import { TokenService, type TokenPair } from './token.service';

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
    private readonly repository: SessionsRepository,
  ) {}

  async create(userId: string, manager: EntityManager): Promise<{ session: Session; tokens: TokenPair }> {
    const ctx = RequestContexts.current();
    const now = new Date();
    // The id is chosen here so the refresh hash is known before the row is written: one INSERT.
    const id = randomUUID();
    const session = await this.repository.insert(manager, {
      id,
      userId,
      refreshGeneration: 0,
      refreshHash: TokenService.hash(this.tokens.refreshToken(id, 0)),
      rotatedAt: now,
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent ?? null,
      lastSeenAt: now,
      idleExpiresAt: new Date(now.getTime() + this.config.auth.sessionIdleSeconds * 1000),
      absoluteExpiresAt: new Date(now.getTime() + this.config.auth.sessionAbsoluteSeconds * 1000),
    });
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
      const session = await this.repository.lockForUpdate(manager, parsed.sessionId);
      const now = new Date();
      if (!session || !this.isLive(session, now)) return { kind: 'invalid' as const };
      if (!(await this.repository.userIsActive(manager, session.userId))) return { kind: 'invalid' as const };

      if (parsed.generation === session.refreshGeneration) {
        if (TokenService.hash(refreshToken) !== session.refreshHash) return { kind: 'invalid' as const };
        const generation = session.refreshGeneration + 1;
        await this.repository.rotate(manager, session.id, {
          generation,
          refreshHash: TokenService.hash(this.tokens.refreshToken(session.id, generation)),
          now,
          idleExpiresAt: new Date(now.getTime() + this.config.auth.sessionIdleSeconds * 1000),
        });
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
  snapshots(sessionIds: readonly string[]): Promise<Map<string, SessionSnapshot>> {
    return this.repository.snapshots(sessionIds);
  }

  /** Marks the session used, which pushes its idle expiry; at most once a minute per session. */
  async touch(snapshot: SessionSnapshot): Promise<void> {
    const now = Date.now();
    if (now - snapshot.lastSeenAt.getTime() < TOUCH_INTERVAL_MS) return;
    await this.repository.touch(snapshot.sessionId, this.config.auth.sessionIdleSeconds);
  }

  listActive(userId: string): Promise<Session[]> {
    return this.repository.listActive(userId);
  }

  /** Revokes one session of the user; 404 when it is not theirs or not active. */
  async revokeOwn(userId: string, sessionId: string, reason: string, manager: EntityManager): Promise<void> {
    const session = await this.repository.findUnrevokedOf(manager, userId, sessionId);
    if (!session) throw AppException.notFound('session');
    await this.revokeWith(manager, session, reason, new Date());
  }

  /** Revokes every active session of the user but `exceptSessionId`; returns how many. */
  async revokeAll(userId: string, reason: string, manager: EntityManager, exceptSessionId?: string): Promise<number> {
    return this.repository.revokeAllOf(manager, userId, reason, exceptSessionId);
  }

  private async revokeWith(manager: EntityManager, session: Session, reason: string, now: Date): Promise<void> {
    await this.repository.revoke(manager, session.id, reason, now);
  }

  private isLive(session: Session, now: Date): boolean {
    return session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
  }
}
