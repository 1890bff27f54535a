import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { IpRulesService } from './ip-rules.service';

/**
 * The first line, before any authentication or body parsing: IP rules (403 when refused), then
 * the global per-IP rate limit (429). The client address is Express's `req.ip`, which believes
 * X-Forwarded-For only from TRUSTED_PROXIES. Scrapes of `/metrics` pass the IP rules but not the limit.
 */
@Injectable()
export class IpFilterMiddleware implements NestMiddleware {
  constructor(
    private readonly ipRules: IpRulesService,
    private readonly limits: RateLimitService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const refusal = await this.ipRules.refusal(req.ip);
    if (refusal) throw new AppException(ErrorCode.IpBlocked, `Requests from this address are refused: ${refusal}.`);
    // Prometheus scrapes are protected by METRICS_TOKEN / METRICS_ALLOW_IPS and must never be refused
    // for rate: a scraper that gets 429 loses the data points and fires "target down" alerts.
    if (!isScrape(req)) await this.limits.enforce(res, 'ip', req.ip ?? 'unknown', this.config.rateLimit.ipPerMinute);
    next();
  }
}

function isScrape(req: Request): boolean {
  const path = (req.originalUrl ?? req.url).split('?', 1)[0];
  return req.method === 'GET' && (path === '/metrics' || path === '/metrics/');
}
