import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../../security/rbac/authenticated.decorator';
import { ApiStatsService } from './api-stats.service';
import { ApiStatsDto } from './dto/api-stats.dto';

@ApiTags('observability')
@Controller({ path: 'admin/api-stats', version: '1' })
export class ApiStatsController {
  constructor(private readonly stats: ApiStatsService) {}

  @Get()
  @Authenticated('api-stats:read')
  @ApiOperation({
    summary: 'API usage statistics of this instance',
    description:
      'Every route with its access requirement, request count, responses by status class and latency p50/p95/p99, ' +
      'since this instance started. Per instance and in memory: behind a load balancer each instance answers for ' +
      'itself; use the Prometheus metrics at /metrics for cluster-wide figures.',
  })
  @ApiOkResponse({ type: ApiStatsDto })
  get(): ApiStatsDto {
    return this.stats.snapshot();
  }
}
