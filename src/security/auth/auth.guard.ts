import { type CanActivate, type ExecutionContext, Injectable, Logger, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { RATE_LIMIT_CLASS } from '../rate-limit/rate-limit.decorator';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { RequestContexts } from '../../common/http/request-context';
import { IS_PUBLIC } from '../../common/http/public.decorator';
import { OPTIONAL_AUTH } from '../../common/http/optional-auth.decorator';
import type { Permission } from '../rbac/permissions';
import { REQUIRED_PERMISSIONS, SESSION_ONLY } from '../rbac/authenticated.decorator';
import { type AuthenticatedPrincipal, invalidAccessToken } from './principals.service';
import { API_KEY_STRATEGY } from './strategies/api-key.strategy';
import { bearerToken, JWT_STRATEGY } from './strategies/jwt.strategy';
import { AppPassport } from './strategies/passport';

export const ALLOW_EXPIRED_PASSWORD = 'bastion:allow-expired-password';

/** Lets a caller whose password has expired reach this route (changing it, reading /me, logging out). */
export const AllowExpiredPassword = (): MethodDecorator => SetMetadata(ALLOW_EXPIRED_PASSWORD, true);

export const ALLOW_MFA_ENROLMENT = 'bastion:allow-mfa-enrolment';

/**
 * Lets a caller who must enrol in MFA first (a role in MFA_REQUIRED_ROLES, no active MFA) reach
 * this route: enrolling, reading /me and the MFA status, signing out.
 */
export const AllowMfaEnrolment = (): MethodDecorator => SetMetadata(ALLOW_MFA_ENROLMENT, true);

const unauthenticated = (
  detail = 'Send a valid access token as Authorization: Bearer <token>, or an API key as X-API-Key.',
): AppException =>
  new AppException(ErrorCode.Unauthenticated, detail, { headers: { 'WWW-Authenticate': 'Bearer realm="bastion"' } });

/**
 * The one global guard, deny by default: a route is reachable only if it is `@Public()` or
 * declares `@Authenticated(...permissions)`. Credentials are checked by passport strategies
 * (`JwtStrategy` for bearer tokens, `ApiKeyStrategy` for X-API-Key) that this guard composes; the
 * guard keeps every decision (which strategy, rate limits, password expiry, MFA enrolment, permissions). The session and user are read on every request, so
 * a revoked session, a suspended user or a changed role or group takes effect at once, on every
 * instance, even while the access token has not expired.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly passport: AppPassport,
    private readonly limits: RateLimitService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true; // the live gateway authenticates its own handshakes
    const targets = [context.getHandler(), context.getClass()];
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    if (this.reflector.get<string>(RATE_LIMIT_CLASS, context.getHandler()) === 'auth') {
      const bucket = `auth:${context.getClass().name}.${context.getHandler().name}`;
      await this.limits.enforce(res, bucket, req.ip ?? 'unknown', this.config.rateLimit.authPerMinute);
    }
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      if (this.reflector.getAllAndOverride<boolean>(OPTIONAL_AUTH, targets))
        await this.authenticateOptionally(req, res);
      return true;
    }
    const required = this.reflector.getAllAndOverride<Permission[] | undefined>(REQUIRED_PERMISSIONS, targets);
    if (required === undefined) {
      this.logger.error(`${req.method} ${req.path} declares neither @Public() nor @Authenticated(): denied`);
      throw new AppException(ErrorCode.Forbidden, 'This route is not available.');
    }

    const principal = await this.authenticate(req, res);
    req.principal = principal;
    await this.limits.enforce(
      res,
      principal.apiKeyId ? 'key' : 'user',
      principal.apiKeyId ?? principal.userId,
      principal.apiKeyId
        ? (this.config.rateLimit.keyTiers[principal.rateTier ?? 'standard'] ?? this.config.rateLimit.keyTiers.standard)
        : this.config.rateLimit.userPerMinute,
    );
    const ctx = RequestContexts.current();
    if (ctx)
      ctx.actor = {
        type: principal.apiKeyId ? 'api_key' : 'user',
        id: principal.apiKeyId ?? principal.userId,
        userId: principal.userId,
      };

    if (principal.apiKeyId && this.reflector.getAllAndOverride<boolean>(SESSION_ONLY, targets)) {
      throw new AppException(
        ErrorCode.SessionRequired,
        'API keys cannot use this route: your account, its sessions, MFA and API keys are managed from a signed-in session.',
      );
    }
    if (principal.passwordExpired && !this.reflector.get<boolean>(ALLOW_EXPIRED_PASSWORD, context.getHandler())) {
      throw new AppException(
        ErrorCode.PasswordExpired,
        'Your password has expired: change it with POST /api/v1/me/password.',
      );
    }
    if (principal.mfaEnrolmentRequired && !this.reflector.get<boolean>(ALLOW_MFA_ENROLMENT, context.getHandler())) {
      throw new AppException(
        ErrorCode.MfaEnrolmentRequired,
        'Your role requires MFA: enrol with POST /api/v1/me/mfa/totp, then activate it with POST /api/v1/me/mfa/totp/activate.',
      );
    }
    const missing = required.filter((p) => !principal.permissions.has(p));
    if (missing.length > 0) {
      throw new AppException(ErrorCode.Forbidden, 'You are not allowed to do this.', {
        extensions: { missingPermissions: missing },
      });
    }
    return true;
  }

  /** Public routes that show more to privileged callers: a failed check leaves the caller anonymous. */
  private async authenticateOptionally(req: Request, res: Response): Promise<void> {
    if (!req.headers.authorization && req.headers['x-api-key'] === undefined) return;
    try {
      const principal = await this.authenticate(req, res);
      if (!principal.passwordExpired && !principal.mfaEnrolmentRequired) req.principal = principal;
    } catch {
      // anonymous
    }
  }

  /** Picks the strategy from the credentials presented (one kind only) and runs it through passport. */
  private authenticate(req: Request, res: Response): Promise<AuthenticatedPrincipal> {
    const header = req.headers.authorization;
    const apiKey = req.headers['x-api-key'];
    if (header && apiKey)
      throw new AppException(ErrorCode.BadRequest, 'Send either Authorization or X-API-Key, not both.');
    if (typeof apiKey === 'string') return this.runStrategy(API_KEY_STRATEGY, req, res);
    if (!header) throw unauthenticated();
    if (bearerToken(req) === null) throw unauthenticated('The Authorization header must be "Bearer <token>".');
    return this.runStrategy(JWT_STRATEGY, req, res);
  }

  /**
   * One passport strategy, without sessions: its principal, or the AppException its `validate()`
   * threw (401 revoked session, 403 IP not allowed...), or 401 INVALID_TOKEN when passport-jwt
   * refused the token itself (signature, expiry, issuer, audience, algorithm).
   */
  private runStrategy(name: string, req: Request, res: Response): Promise<AuthenticatedPrincipal> {
    return new Promise((resolve, reject) => {
      const authenticate = this.passport.authenticate(
        name,
        { session: false },
        (err: unknown, principal: AuthenticatedPrincipal | false | null) => {
          if (err) reject(err instanceof Error ? err : new Error(`passport strategy ${name} failed`, { cause: err }));
          else if (principal) resolve(principal);
          else reject(invalidAccessToken());
        },
      ) as (req: Request, res: Response, next: (err?: unknown) => void) => void;
      authenticate(req, res, (err?: unknown) =>
        reject(err instanceof Error ? err : new Error(`passport strategy ${name} gave no verdict`)),
      );
    });
  }
}
