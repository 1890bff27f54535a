import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Type } from 'class-transformer';
import { AppException } from '../../common/errors/app.exception';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { Authenticated } from '../../security/rbac/authenticated.decorator';
import { MetricsService } from '../metrics/metrics.service';
import { DashboardService, type Dashboard } from './dashboard.service';

export class MetricsQueryDto {
  @ApiPropertyOptional({
    example: 'host_cpu_usage_percent,host_memory_usage_percent',
    description: 'Comma-separated metric names (required for a series).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  metric?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'With `from`: a series instead of current values.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Default: now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'Seconds per point (averaged); at least the collection interval.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  step?: number;
}

export class MetricsAnswerDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Current values: time of the sample.' })
  at?: string;
  @ApiPropertyOptional({ description: 'Current values: the instance that took the sample.' })
  instance?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Current values by series key (`name` or `name{label="value"}`).',
  })
  values?: Record<string, number>;
  @ApiPropertyOptional({ format: 'date-time' }) from?: string;
  @ApiPropertyOptional({ format: 'date-time' }) to?: string;
  @ApiPropertyOptional() step?: number;
  @ApiPropertyOptional({ enum: ['raw', 'rollup'] }) source?: string;
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object' },
    description: 'Series: `{metric, labels, points: [[time, value], ...]}`.',
  })
  series?: unknown[];
}

export class DashboardDto {
  @ApiProperty({ format: 'date-time' }) generatedAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) current!: Dashboard['current'];
  @ApiProperty({ type: 'object', additionalProperties: true }) alerts!: Dashboard['alerts'];
  @ApiProperty({ type: 'object', additionalProperties: true }) status!: Dashboard['status'];
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Short series for sparklines.' })
  sparklines!: Dashboard['sparklines'];
}

@ApiTags('monitoring')
@Controller({ path: 'monitoring', version: '1' })
export class MonitoringController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly dashboard: DashboardService,
  ) {}

  @Get('metrics')
  @Authenticated('metrics:read')
  @ApiOperation({
    summary: 'Current metrics, or a series',
    description:
      'Without `from`: the newest sample of this instance. With `from` (and `metric`): averages per `step` from the raw samples (last MONITORING_RAW_RETENTION_HOURS) or the 1-minute averages.',
  })
  @ApiOkResponse({ type: MetricsAnswerDto })
  @ApiProblems(400)
  async read(@Query() q: MetricsQueryDto): Promise<MetricsAnswerDto> {
    if (!q.from) {
      const s = this.metrics.latest() ?? (await this.metrics.collect());
      return { at: s.at.toISOString(), instance: s.instance, values: s.values };
    }
    const names = (q.metric ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length === 0)
      throw AppException.validation([{ field: 'metric', message: 'metric is required with from' }]);
    return this.metrics.series(names, new Date(q.from), q.to ? new Date(q.to) : new Date(), q.step);
  }

  @Get('dashboard')
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'Monitoring dashboard',
    description: 'Current metrics, open alerts by level, system status and sparklines, in one answer.',
  })
  @ApiOkResponse({ type: DashboardDto })
  get(): Promise<DashboardDto> {
    return this.dashboard.build();
  }
}
