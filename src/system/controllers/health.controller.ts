import { Controller, Get, HttpCode, ServiceUnavailableException, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheckService,
  MemoryHealthIndicator,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { Public } from '../../common/http/public.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { HealthCheckDto } from '../dto/status.dto';
import { StorageHealthIndicator } from '../health/storage.health';

@ApiTags('health')
@Public()
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly memory: MemoryHealthIndicator,
    private readonly storage: StorageHealthIndicator,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Liveness: the process answers',
    description: 'Checks nothing else; use it to restart a hung process.',
  })
  @ApiOkResponse({ type: HealthCheckDto })
  live(): HealthCheckDto {
    return { status: 'ok', checks: {} };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: database, heap and disk',
    description:
      'Answers 200 when the instance can serve traffic, 503 problem+json naming each failing check otherwise.',
  })
  @ApiOkResponse({ type: HealthCheckDto })
  @ApiProblems(503)
  async ready(): Promise<HealthCheckDto> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.db.pingCheck('database', { timeout: 3000 }),
        () => this.memory.checkHeap('heap', this.config.health.heapLimitBytes),
        () => this.storage.check('storage', this.config.dataDir, this.config.health.diskMinFreeBytes),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const failed = err.getResponse() as HealthCheckResult;
      const names = Object.keys(failed.error ?? {});
      throw new AppException(ErrorCode.ServiceUnavailable, `Not ready: failing check(s): ${names.join(', ')}.`, {
        extensions: { checks: failed.details, failing: names },
      });
    }
    return { status: 'ok', checks: result.details };
  }
}
