import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { MetricsService } from '../metrics/metrics.service';
import { LEVELS, OPERATORS } from './alert-logic';
import { AlertRulesService } from './alert-rules.service';
import {
  AlertRuleDto,
  AlertRuleListDto,
  CreateAlertRuleDto,
  mapAlertRule,
  MetricCatalogueDto,
  UpdateAlertRuleDto,
} from './dto/alert-rule.dto';

@ApiTags('monitoring')
@Controller({ path: 'monitoring/alert-rules', version: '1' })
export class AlertRulesController {
  constructor(
    private readonly rules: AlertRulesService,
    private readonly metrics: MetricsService,
  ) {}

  @Get()
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'List alert rules',
    description: 'Every rule, by name. Secrets of targets are never shown.',
  })
  @ApiOkResponse({ type: AlertRuleListDto })
  async list(): Promise<AlertRuleListDto> {
    return { items: (await this.rules.list()).map(mapAlertRule) };
  }

  @Get('catalogue')
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'Metrics that rules can watch',
    description: 'Every collected metric with its unit and labels, plus the operators and levels a rule may use.',
  })
  @ApiOkResponse({ type: MetricCatalogueDto })
  catalogue(): MetricCatalogueDto {
    return { items: this.metrics.catalogue(), operators: [...OPERATORS], levels: [...LEVELS] };
  }

  @Get(':id')
  @Authenticated('monitoring:read')
  @ApiOperation({
    summary: 'Read an alert rule',
    description:
      'One alert rule with its condition, labels and notification targets (webhook secrets are never returned).',
  })
  @ApiOkResponse({ type: AlertRuleDto })
  @ApiProblems(400, 404)
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<AlertRuleDto> {
    return mapAlertRule(await this.rules.get(id));
  }

  @Post()
  @Authenticated('alert-rules:manage')
  @ApiOperation({
    summary: 'Create an alert rule',
    description:
      'A condition `metric operator threshold` on the newest sample of each series, held for `forSeconds` before it fires. Audited.',
  })
  @ApiCreatedResponse({ type: AlertRuleDto })
  @ApiProblems(400, 409)
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateAlertRuleDto): Promise<AlertRuleDto> {
    return mapAlertRule(await this.rules.create(body, p.userId));
  }

  @Patch(':id')
  @Authenticated('alert-rules:manage')
  @ApiOperation({ summary: 'Change an alert rule', description: 'Only the fields sent change. Audited.' })
  @ApiOkResponse({ type: AlertRuleDto })
  @ApiProblems(400, 404, 409)
  async update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateAlertRuleDto): Promise<AlertRuleDto> {
    return mapAlertRule(await this.rules.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated('alert-rules:manage')
  @ApiOperation({
    summary: 'Delete an alert rule',
    description: 'Its open alerts are resolved; history stays. Audited.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(400, 404)
  async remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    await this.rules.remove(id);
  }
}
