import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { DATA_SOURCES, jsonSchemaFor } from '../data/data-sources';
import {
  CreateReportDto,
  CreateReportTemplateDto,
  mapDelivery,
  mapRun,
  mapTemplate,
  ReportQueryDto,
  ReportRunDetailDto,
  ReportRunDto,
  ReportRunPageDto,
  ReportTemplateDto,
} from '../dto/report.dto';
import { ReportDeliveryService } from '../delivery/report-delivery.service';
import { ReportRunnerService } from './report-runner.service';
import { ReportsService } from './reports.service';

@ApiTags('reports')
@Controller({ path: 'reports', version: '1' })
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly runner: ReportRunnerService,
    private readonly delivery: ReportDeliveryService,
  ) {}

  @Get('templates')
  @Authenticated('reports:read')
  @ApiOperation({
    summary: 'List report templates',
    description:
      'Built-in templates (one per data source) and custom ones, with their typed parameters and the JSON Schema of their JSON output.',
  })
  @ApiOkResponse({ type: [ReportTemplateDto] })
  async templates(): Promise<ReportTemplateDto[]> {
    return (await this.reports.listTemplates()).map((t) => mapTemplate(t, jsonSchemaFor(DATA_SOURCES[t.dataSource])));
  }

  @Post('templates')
  @Authenticated('report-templates:manage')
  @ApiOperation({
    summary: 'Create a custom report template',
    description:
      'An EJS template bound to a data source, with typed parameters. Checked on save; rendered in a sandbox (worker thread, time and memory limits, only `data` in scope). Audited.',
  })
  @ApiCreatedResponse({ type: ReportTemplateDto })
  @ApiProblems(400, 409)
  async createTemplate(
    @CurrentPrincipal() principal: Principal,
    @Body() body: CreateReportTemplateDto,
  ): Promise<ReportTemplateDto> {
    const t = await this.reports.createTemplate(principal, body);
    return mapTemplate(t, jsonSchemaFor(DATA_SOURCES[t.dataSource]));
  }

  @Post()
  @HttpCode(202)
  @Authenticated('reports:create')
  @ApiOperation({
    summary: 'Run a report',
    description:
      'Queues a run (`queued` → `running` → `completed` | `failed`); progress on GET /reports/{id} and the live channel `report:<id>`. The caller needs the permissions of the data source; `asOf` fixes the data so a re-run reproduces the file.',
  })
  @ApiAcceptedResponse({ type: ReportRunDto })
  @ApiProblems(400, 404, 503)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateReportDto): Promise<ReportRunDto> {
    const run = await this.reports.createRun(principal, body);
    this.runner.kick();
    return mapRun(run);
  }

  @Get()
  @Authenticated('reports:read')
  @ApiOperation({
    summary: 'List report runs',
    description:
      "Your runs, newest first; filter by template or report key (its versions). `owner=all` (needs `reports:read-all`) adds other users' runs of the data sources whose data you may read yourself.",
  })
  @ApiOkResponse({ type: ReportRunPageDto })
  @ApiProblems(400, 403)
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ReportQueryDto): Promise<ReportRunPageDto> {
    const page = await this.reports.list(principal, query);
    return { items: page.items.map(mapRun), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @Authenticated('reports:read')
  @ApiOperation({
    summary: 'A report run',
    description:
      "Status, progress, and when completed the file's name, type, size and SHA-256; for a scheduled run, each delivery (email, webhook, the owner's failure notice) with its status and attempts. Your own runs; with `reports:read-all`, also other users' runs of data you may read yourself (else 404).",
  })
  @ApiOkResponse({ type: ReportRunDetailDto })
  @ApiProblems(404)
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ReportRunDetailDto> {
    const run = await this.reports.get(principal, id);
    return { ...mapRun(run), deliveries: (await this.delivery.deliveries(run.id)).map(mapDelivery) };
  }

  @Get(':id/download')
  @Authenticated('reports:read')
  @ApiOperation({
    summary: 'Download a report file',
    description:
      'Streams the file with its content type and a filename. The same read rule as GET /reports/{id}. Audited.',
  })
  @ApiProduces('text/html', 'text/csv', 'application/json', 'application/pdf')
  @ApiOkResponse({
    description: 'The file.',
    content: {
      'text/html': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
      'application/json': { schema: { type: 'object', additionalProperties: true } },
      'application/pdf': { schema: { type: 'string', format: 'binary' } },
    },
  })
  @ApiProblems(404, 409)
  async download(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Res() res: Response,
  ): Promise<void> {
    const { run, stream } = await this.reports.download(principal, id);
    res.setHeader('Content-Type', run.contentType!);
    res.setHeader('Content-Length', String(run.size));
    res.setHeader('Content-Disposition', `attachment; filename="${run.fileName}"`);
    res.setHeader('Digest', `sha-256=${Buffer.from(run.sha256!, 'hex').toString('base64')}`);
    stream.pipe(res);
  }
}
