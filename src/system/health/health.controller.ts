import { Controller, Get, HttpCode, Req, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { OptionalAuthentication } from '../../common/http/optional-auth.decorator';
import { noteOnRequestLog } from '../../common/logging/request-log';
import { Public } from '../../common/http/public.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { HealthCheckDto, LivenessDto } from '../status/dto/status.dto';
import { ReadinessService } from './readiness.service';
import { mayReadFigures } from '../status/status.service';

@ApiTags('health')
@Public()
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Liveness: the process answers',
    description: 'Checks nothing else; use it to restart a hung process.',
  })
  @ApiOkResponse({ type: LivenessDto })
  live(): LivenessDto {
    return { status: 'ok', checks: {} };
  }

  @Get('ready')
  @OptionalAuthentication()
  @ApiOperation({
    summary: 'Readiness: database, Redis, heap and data directory',
    description:
      'Answers 200 `ok` when the instance can serve traffic, 200 `degraded` when it serves without an optional ' +
      'dependency (Redis: rate limits are then counted in process), and 503 problem+json naming each failing check ' +
      '(`failing`) otherwise. Figures and messages per check (`checks`) only for callers with `metrics:read` ' +
      '(bearer token or API key); never a host, port or driver message.',
  })
  @ApiOkResponse({ type: HealthCheckDto })
  @ApiProblems(503)
  async ready(@Req() req: Request): Promise<HealthCheckDto> {
    const result = await this.readiness.check();
    const detailed = mayReadFigures(req);
    if (result.status === 'error') {
      // The cause was logged once by the readiness service; each probe's 503 line stays at info.
      if (req.res) noteOnRequestLog(req.res, { level: 'info' });
      throw new AppException(
        ErrorCode.ServiceUnavailable,
        `Not ready: failing check(s): ${result.failing.join(', ')}.`,
        {
          headers: { 'Retry-After': '5' },
          extensions: {
            failing: result.failing,
            ...(result.degraded.length > 0 ? { degraded: result.degraded } : {}),
            ...(detailed ? { checks: result.checks } : {}),
          },
        },
      );
    }
    return {
      status: result.status,
      ...(result.degraded.length > 0 ? { degraded: result.degraded } : {}),
      ...(detailed ? { checks: result.checks } : {}),
    };
  }
}
