import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import {
  type AuthenticatedPrincipal,
  type PrincipalSource,
  PrincipalsService,
} from '../../security/auth/principals.service';
import { IpRulesService } from '../../security/ip-rules/ip-rules.service';
import { RateLimitService } from '../../security/rate-limit/rate-limit.service';

export interface Handshake {
  principal: AuthenticatedPrincipal;
  source: PrincipalSource;
  ip: string | undefined;
  tokenExpiresAt?: number;
}

/**
 * Decides whether a Socket.IO handshake may open a live connection, by the rules REST applies to
 * a request: the client address (X-Forwarded-For believed only from TRUSTED_PROXIES), the CORS
 * origins, the IP rules and per-address rate limit, then the credentials (`auth: {token}` or
 * `auth: {apiKey}`) through the guard's own principal loader. Refusals are AppExceptions, which
 * the gateway sends as `connect_error` data `{code, message}`.
 */
@Injectable()
export class LiveAuthService {
  private readonly trust: (addr: string, i: number) => boolean;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly principals: PrincipalsService,
    private readonly ipRules: IpRulesService,
    private readonly limits: RateLimitService,
  ) {
    // Express compiles `trust proxy` with the same function, so req.ip and this agree.
    this.trust = proxyaddr.compile(config.http.trustedProxies);
  }

  clientAddress(req: IncomingMessage): string | undefined {
    return req.socket?.remoteAddress ? proxyaddr(req, this.trust) : undefined;
  }

  async handshake(req: IncomingMessage, auth: unknown): Promise<Handshake> {
    const ip = this.clientAddress(req);
    this.checkOrigin(req);
    const refusal = await this.ipRules.refusal(ip);
    if (refusal) throw new AppException(ErrorCode.IpBlocked, `Connections from this address are refused: ${refusal}.`);
    const perIp = await this.limits.consume('ip', ip ?? 'unknown', this.config.rateLimit.ipPerMinute);
    if (!perIp.allowed) {
      throw new AppException(ErrorCode.RateLimited, `Too many requests from this address; retry in ${perIp.reset} s.`);
    }

    const { token, apiKey } = (auth && typeof auth === 'object' ? auth : {}) as Record<string, unknown>;
    if (token !== undefined && apiKey !== undefined) {
      throw new AppException(ErrorCode.BadRequest, 'Send either auth.token or auth.apiKey, not both.');
    }
    if (typeof apiKey === 'string') {
      const principal = await this.principals.fromApiKey(apiKey, ip);
      await this.limitCaller(principal);
      return { principal, ip, source: { kind: 'api_key', apiKeyId: principal.apiKeyId, userId: principal.userId, ip } };
    }
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw new AppException(
        ErrorCode.Unauthenticated,
        'Connect with auth: {token: <access token>} or auth: {apiKey: <API key>}.',
      );
    }
    const principal = await this.principals.fromAccessToken(token);
    this.assertUsable(principal);
    await this.limitCaller(principal);
    return {
      principal,
      ip,
      source: { kind: 'session', sessionId: principal.sessionId, userId: principal.userId },
      tokenExpiresAt: principal.expiresAt.getTime(),
    };
  }

  /** A fresh access token sent over an open socket: same user, and usable. */
  async refresh(
    current: AuthenticatedPrincipal,
    token: unknown,
  ): Promise<Handshake['principal'] & { sessionId: string; expiresAt: Date }> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw AppException.validation([{ field: 'token', message: 'token must be an access token' }]);
    }
    if (current.apiKeyId) {
      throw new AppException(ErrorCode.BadRequest, 'This connection uses an API key, which does not expire this way.');
    }
    const principal = await this.principals.fromAccessToken(token);
    if (principal.userId !== current.userId) {
      throw new AppException(ErrorCode.Forbidden, 'The token belongs to another user; open a new connection for them.');
    }
    this.assertUsable(principal);
    return principal;
  }

  private assertUsable(principal: AuthenticatedPrincipal): void {
    if (principal.passwordExpired) {
      throw new AppException(
        ErrorCode.PasswordExpired,
        'Your password has expired: change it with POST /api/v1/me/password.',
      );
    }
    if (principal.mfaEnrolmentRequired) {
      throw new AppException(ErrorCode.MfaEnrolmentRequired, 'Your role requires MFA: enrol before connecting.');
    }
  }

  /** The handshake counts as one request of the user or key, like a REST call. */
  private async limitCaller(principal: AuthenticatedPrincipal): Promise<void> {
    const limit = principal.apiKeyId
      ? (this.config.rateLimit.keyTiers[principal.rateTier ?? 'standard'] ?? this.config.rateLimit.keyTiers.standard)
      : this.config.rateLimit.userPerMinute;
    const result = await this.limits.consume(
      principal.apiKeyId ? 'key' : 'user',
      principal.apiKeyId ?? principal.userId,
      limit,
    );
    if (!result.allowed)
      throw new AppException(ErrorCode.RateLimited, `Too many requests; retry in ${result.reset} s.`);
  }

  /**
   * Browsers send Origin: a page may connect from the server's own origin or from CORS_ORIGINS
   * (`*`: any). Clients that are not browsers send none and are not concerned.
   */
  private checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (!origin) return;
    const allowed = this.config.http.corsOrigins;
    if (allowed.includes('*') || allowed.includes(origin)) return;
    try {
      if (new URL(origin).host === req.headers.host) return;
    } catch {
      // not a URL: refused below
    }
    throw new AppException(ErrorCode.Forbidden, 'Connections from this origin are not allowed (CORS_ORIGINS).');
  }
}
