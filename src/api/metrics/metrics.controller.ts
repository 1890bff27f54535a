import { Controller, Get, Header, Res, UseGuards, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../../common/http/public.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { MetricsAccessGuard } from './metrics-access.guard';
import { PrometheusService } from './prometheus.service';

const EXAMPLE = [
  '# HELP http_requests_total HTTP requests answered, by method, route template and status code.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",route="/api/v1/users/:id",status="200"} 42',
].join('\n');

@ApiTags('observability')
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  constructor(private readonly prometheus: PrometheusService) {}

  @Get()
  @Public() // for the JWT/API-key guard: scrapers are checked by MetricsAccessGuard instead
  @UseGuards(MetricsAccessGuard)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics of this instance',
    description:
      'Text exposition format: `http_requests_total` and the `http_request_duration_seconds` histogram by method, ' +
      'route template and status, plus the Node.js process metrics. Not a user route: protected by METRICS_TOKEN ' +
      '(`Authorization: Bearer <token>`) and/or METRICS_ALLOW_IPS; with neither set, only loopback clients may scrape.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text format 0.0.4.',
    content: { 'text/plain': { schema: { type: 'string', example: EXAMPLE } } },
  })
  @ApiProblems(401, 403)
  async metrics(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.type(this.prometheus.contentType);
    return this.prometheus.render();
  }
}
