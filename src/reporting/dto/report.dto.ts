import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { PageDto, PageQueryDto } from '../../common/pagination/pagination';
import { DATA_SOURCE_KEYS, type ParamSpec, type ParamType } from '../data/data-sources';
import type { ReportDelivery } from '../delivery/report-deliveries.repository';
import { deliveryTarget } from '../delivery/report-delivery.service';
import type { ReportRunRow } from '../runs/report-runs.repository';
import type { ResolvedTemplate } from '../runs/reports.service';

export class CreateReportDto {
  @ApiProperty({
    description:
      'A built-in template key (`trading-performance`, `portfolio-summary`, `risk`, `user-activity`, `security-compliance`, `trades`) or a custom template id.',
    example: 'trading-performance',
  })
  @IsString()
  @MaxLength(64)
  template!: string;

  @ApiProperty({ enum: ['html', 'csv', 'json', 'pdf'] })
  @IsIn(['html', 'csv', 'json', 'pdf'])
  format!: 'html' | 'csv' | 'json' | 'pdf';

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The template's declared parameters (see GET /reports/templates). Decimals and times as strings.",
    example: {
      from: '2026-01-01T00:00:00Z',
      to: '2026-03-31T23:59:59Z',
      asOf: '2026-04-01T00:00:00Z',
      riskFreeRate: '0.02',
    },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

export class ReportQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only runs of this template.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  template?: string;

  @ApiPropertyOptional({ description: 'Only versions of this report (`reportKey`).' })
  @IsOptional()
  @Matches(/^[0-9a-f]{64}$/)
  reportKey?: string;

  @ApiPropertyOptional({
    enum: ['me', 'all'],
    default: 'me',
    example: 'all',
    description:
      "`all` (needs `reports:read-all`): your runs and other users' runs of the data sources whose data you may read yourself (trading data needs `portfolios:read-all`).",
  })
  @IsOptional()
  @IsIn(['me', 'all'])
  owner?: 'me' | 'all';
}

export class ReportRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() template!: string;
  @ApiProperty() templateName!: string;
  @ApiProperty({ enum: ['html', 'csv', 'json', 'pdf'] }) format!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) parameters!: Record<string, unknown>;
  @ApiProperty({
    description: 'SHA-256 of template and parameters: runs with the same key are versions of one report.',
  })
  reportKey!: string;
  @ApiProperty({ description: '1, 2, … per report.' }) version!: number;
  @ApiProperty({ description: 'Data as recorded at this time.' }) asOf!: string;
  @ApiProperty({ enum: ['queued', 'running', 'completed', 'failed'] }) status!: string;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty({ type: String, nullable: true }) fileName!: string | null;
  @ApiProperty({ type: String, nullable: true }) contentType!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Bytes.' }) size!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'SHA-256 of the file, hex.' }) sha256!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Rows of the main table (the CSV rows).' }) rowCount!:
    number | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) scheduleId!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) startedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) finishedAt!: string | null;
}

export class ReportRunPageDto extends PageDto(ReportRunDto) {}

export class ReportDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Also sent to webhooks as `X-Bastion-Delivery`.' }) id!: string;
  @ApiProperty({
    enum: ['report', 'owner_notice'],
    description: "`report`: to the schedule's recipients; `owner_notice`: the owner told of a failure.",
  })
  purpose!: string;
  @ApiProperty({ enum: ['email', 'webhook'] }) channel!: string;
  @ApiProperty({
    description:
      "Email addresses (comma-separated), a webhook's origin (never its path or query, which may hold a token), or `owner`.",
  })
  target!: string;
  @ApiProperty({
    enum: ['pending', 'delivered', 'failed'],
    description: '`pending` until delivered or failed for good (4 attempts, 0.5, 2 and 8 s apart).',
  })
  status!: string;
  @ApiProperty({ description: 'Attempts made so far.' }) attempts!: number;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed.' }) lastError!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: "The webhook's last HTTP status." })
  responseStatus!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'When the next attempt is due (pending only).' })
  nextAttemptAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) deliveredAt!: string | null;
}

export class ReportRunDetailDto extends ReportRunDto {
  @ApiProperty({
    type: [ReportDeliveryDto],
    description: "A scheduled run's deliveries (empty for an unscheduled run, or until it finishes).",
  })
  deliveries!: ReportDeliveryDto[];
}

export function mapDelivery(d: ReportDelivery): ReportDeliveryDto {
  return {
    id: d.id,
    purpose: d.purpose,
    channel: d.channel,
    target: deliveryTarget(d),
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    responseStatus: d.responseStatus,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}

export function mapRun(r: ReportRunRow): ReportRunDto {
  return {
    id: r.id,
    template: r.template,
    templateName: r.templateName,
    format: r.format,
    parameters: r.parameters,
    reportKey: r.reportKey,
    version: r.version,
    asOf: r.asOf.toISOString(),
    status: r.status,
    progress: r.progress,
    error: r.error,
    fileName: r.fileName,
    contentType: r.contentType,
    size: r.size,
    sha256: r.sha256,
    rowCount: r.rowCount,
    scheduleId: r.scheduleId,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

export class TemplateParameterDto implements ParamSpec {
  @ApiProperty({ example: 'region' })
  @IsString()
  @Matches(/^[a-z][A-Za-z0-9]{0,39}$/)
  name!: string;

  @ApiProperty({ enum: ['uuid', 'datetime', 'decimal', 'integer', 'string'] })
  @IsIn(['uuid', 'datetime', 'decimal', 'integer', 'string'])
  type!: ParamType;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  required?: boolean;

  @ApiProperty()
  @IsString()
  @MaxLength(500)
  description!: string;
}

export class CreateReportTemplateDto {
  @ApiProperty({ example: 'Desk P&L one-pager' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiProperty({ enum: DATA_SOURCE_KEYS, description: 'The data the template renders (`data` in the template).' })
  @IsIn(DATA_SOURCE_KEYS)
  dataSource!: string;

  @ApiPropertyOptional({
    type: [TemplateParameterDto],
    description: "Extra typed parameters, beside the data source's own.",
  })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TemplateParameterDto)
  parameters?: TemplateParameterDto[];

  @ApiProperty({
    description: 'EJS. `data` holds `{template, title, asOf, parameters, summary, tables}`; nothing else is in scope.',
    example: '<h1><%= data.title %></h1><p>Total P&L <%= data.summary.totalPnl %></p>',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(200_000)
  body!: string;
}

export class ReportTemplateDto {
  @ApiProperty({ description: 'What `template` takes in POST /reports: a built-in key or the custom template id.' })
  key!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: DATA_SOURCE_KEYS }) dataSource!: string;
  @ApiProperty() builtin!: boolean;
  @ApiProperty({ type: [TemplateParameterDto] }) parameters!: TemplateParameterDto[];
  @ApiProperty({
    description: "JSON Schema of this template's JSON output.",
    type: 'object',
    additionalProperties: true,
  })
  jsonSchema!: Record<string, unknown>;
}

export function mapTemplate(t: ResolvedTemplate, jsonSchema: Record<string, unknown>): ReportTemplateDto {
  return {
    key: t.key,
    name: t.name,
    dataSource: t.dataSource,
    builtin: t.builtin,
    parameters: t.parameters.map((p) => ({
      name: p.name,
      type: p.type,
      required: !!p.required,
      description: p.description,
    })),
    jsonSchema,
  };
}
