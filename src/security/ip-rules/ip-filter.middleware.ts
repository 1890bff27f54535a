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
 * X-Forwarded-For only from TRUSTED_PROXIES.
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
    await this.limits.enforce(res, 'ip', req.ip ?? 'unknown', this.config.rateLimit.ipPerMinute);
    next();
  }
}
