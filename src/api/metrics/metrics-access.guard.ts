import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { MetricsAccessPolicy } from './metrics-access';

/**
 * The scrape endpoint's own protection (METRICS_TOKEN, METRICS_ALLOW_IPS; loopback only when
 * neither is set). The route is `@Public()` for the global guard because scrapers hold no user
 * session or API key; this guard runs after it, on that route only.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly policy: MetricsAccessPolicy;

  constructor(@InjectConfig() config: AppConfig) {
    this.policy = new MetricsAccessPolicy({ token: config.metrics.token, allowIps: config.metrics.allowIps });
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    switch (this.policy.check(req.ip, req.headers.authorization)) {
      case 'allowed':
        return true;
      case 'address-not-allowed':
        throw new AppException(ErrorCode.Forbidden, 'Metrics are not served to this address.');
      case 'token-missing':
        throw new AppException(ErrorCode.Unauthenticated, 'Send the metrics token as Authorization: Bearer <token>.', {
          headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
        });
      case 'token-invalid':
        throw new AppException(ErrorCode.InvalidToken, 'The metrics token is not valid.', {
          headers: { 'WWW-Authenticate': 'Bearer realm="metrics", error="invalid_token"' },
        });
    }
  }
}
