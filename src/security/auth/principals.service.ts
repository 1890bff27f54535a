import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { CredentialsService } from '../credentials/credentials.service';
import { mfaEnrolmentRequired } from '../mfa/mfa-policy';
import { isPermission } from '../rbac/permissions';
import { isRole, permissionsForRoles } from '../rbac/roles';
import { type SessionSnapshot, SessionsService } from '../sessions/sessions.service';
import { type AccessClaims, TokenService } from '../sessions/token.service';
import type { Principal } from './principal';

export const invalidAccessToken = (): AppException =>
  new AppException(ErrorCode.InvalidToken, 'The access token is invalid or expired.');

/** A principal with what the guard needs besides permissions. */
export type AuthenticatedPrincipal = Principal & { passwordExpired: boolean; rateTier?: string };

/** How a long-lived connection (a live socket) authenticated, so it can be re-checked later. */
export type PrincipalSource =
  | { kind: 'session'; sessionId: string; userId: string }
  | { kind: 'api_key'; apiKeyId: string; userId: string; ip: string | undefined };

/** Why a principal that once authenticated no longer does. */
export type PrincipalEnd =
  | 'session_revoked'
  | 'session_expired'
  | 'user_inactive'
  | 'api_key_revoked'
  | 'api_key_expired'
  | 'ip_blocked'
  | 'password_expired'
  | 'mfa_enrolment_required';

export type PrincipalCheck = { ok: true; principal: AuthenticatedPrincipal } | { ok: false; reason: PrincipalEnd };

/** The key of a source in {@link PrincipalsService.reload}'s answer. */
export const sourceKey = (s: PrincipalSource): string =>
  s.kind === 'session' ? `s:${s.sessionId}` : `k:${s.apiKeyId}`;

/**
 * Turns credentials into a {@link Principal}: the one place that reads a session or an API key
 * and its user, used by the global guard on every request and by the live gateway at the
 * handshake and when it re-checks its open sockets ({@link reload}, one query per credential kind).
 */
@Injectable()
export class PrincipalsService {
  constructor(
    private readonly tokens: TokenService,
    private readonly sessions: SessionsService,
    private readonly credentials: CredentialsService,
    private readonly apiKeys: ApiKeysService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** An access JWT and the session behind it; 401 INVALID_TOKEN when either is not valid now. */
  async fromAccessToken(token: string): Promise<AuthenticatedPrincipal & { sessionId: string; expiresAt: Date }> {
    const claims = this.tokens.verifyAccess(token);
    if (!claims) throw invalidAccessToken();
    return this.fromClaims(claims);
  }

  /**
   * The session behind verified access-token claims (the passport JWT strategy's `validate()`):
   * one query for session, user and group permissions; 401 INVALID_TOKEN when it is not valid now.
   */
  async fromClaims(claims: AccessClaims): Promise<AuthenticatedPrincipal & { sessionId: string; expiresAt: Date }> {
    const snapshot = await this.sessions.snapshot(claims.sid);
    if (!snapshot || !snapshot.active || snapshot.userId !== claims.sub || snapshot.status !== 'active') {
      throw new AppException(ErrorCode.InvalidToken, 'The session has ended; sign in again.');
    }
    await this.sessions.touch(snapshot);
    return { ...this.fromSnapshot(snapshot), sessionId: snapshot.sessionId, expiresAt: new Date(claims.exp * 1000) };
  }

  /** An API key presented from `ip`: 401 when unusable, 403 from outside its allowed ranges. */
  async fromApiKey(secret: string, ip: string | undefined): Promise<AuthenticatedPrincipal & { apiKeyId: string }> {
    return { ...(await this.apiKeys.authenticate(secret, ip)), passwordExpired: false };
  }

  /**
   * Re-reads many principals at once (one query for sessions, one for API keys): each one's
   * permissions now, or why it no longer stands. Keyed by {@link sourceKey}.
   */
  async reload(sources: readonly PrincipalSource[]): Promise<Map<string, PrincipalCheck>> {
    const sessionIds = [...new Set(sources.filter((s) => s.kind === 'session').map((s) => s.sessionId))];
    const keys = sources.filter((s) => s.kind === 'api_key');
    const [snapshots, keyStates] = await Promise.all([
      this.sessions.snapshots(sessionIds),
      this.apiKeys.reload(keys.map((k) => ({ apiKeyId: k.apiKeyId, ip: k.ip }))),
    ]);
    const out = new Map<string, PrincipalCheck>();
    for (const source of sources) {
      if (source.kind === 'session') {
        const snapshot = snapshots.get(source.sessionId);
        out.set(sourceKey(source), this.checkSession(snapshot, source.userId));
      } else {
        const state = keyStates.get(source.apiKeyId);
        out.set(
          sourceKey(source),
          !state
            ? { ok: false, reason: 'api_key_revoked' }
            : state.ok
              ? { ok: true, principal: { ...state.principal, passwordExpired: false } }
              : state,
        );
      }
    }
    return out;
  }

  private checkSession(snapshot: SessionSnapshot | undefined, userId: string): PrincipalCheck {
    if (!snapshot || snapshot.userId !== userId) return { ok: false, reason: 'session_revoked' };
    if (!snapshot.active) return { ok: false, reason: snapshot.revoked ? 'session_revoked' : 'session_expired' };
    if (snapshot.status !== 'active') return { ok: false, reason: 'user_inactive' };
    const principal = this.fromSnapshot(snapshot);
    if (principal.passwordExpired) return { ok: false, reason: 'password_expired' };
    if (principal.mfaEnrolmentRequired) return { ok: false, reason: 'mfa_enrolment_required' };
    return { ok: true, principal };
  }

  private fromSnapshot(snapshot: SessionSnapshot): AuthenticatedPrincipal {
    const roles = snapshot.roles.filter(isRole);
    const passwordExpired =
      snapshot.passwordChangedAt !== null && this.credentials.passwordExpired(snapshot.passwordChangedAt);
    return {
      userId: snapshot.userId,
      email: snapshot.email,
      roles,
      permissions: permissionsForRoles(roles, snapshot.groupPermissions.filter(isPermission)),
      sessionId: snapshot.sessionId,
      passwordExpired,
      mfaEnrolmentRequired: mfaEnrolmentRequired(roles, this.config.mfa.requiredRoles, snapshot.mfaEnabled),
      account: { ...snapshot.account, status: snapshot.status, mfaEnabled: snapshot.mfaEnabled, passwordExpired },
    };
  }
}
