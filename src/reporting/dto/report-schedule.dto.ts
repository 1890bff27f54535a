import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type { ReportScheduleRow } from '../schedules/report-schedules.repository';

export class RecipientsDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['desk@example.com'],
    description:
      'One email to all of them per run, through SMTP_URL: the file attached, or a download link above REPORTS_ATTACH_MAX_BYTES.',
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  emails?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['https://hooks.example.com/reports'],
    description:
      'http(s) URLs, each POSTed `{event: "report.completed", scheduleId, reportId, fileName, contentType, size, sha256, downloadUrl}` per run with an `X-Bastion-Delivery` id (the same on every attempt: delivery is at least once). Any 2xx is delivered; a network error, timeout, 408, 429 or 5xx is retried after 0.5, 2 and 8 s; anything else is final. Each delivery shows on GET /reports/{id}.',
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  webhooks?: string[];
}

export class CreateReportScheduleDto {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(100) name!: string;
  @ApiProperty({ example: 'trading-performance' }) @IsString() @MaxLength(64) template!: string;
  @ApiProperty({ enum: ['html', 'csv', 'json', 'pdf'] }) @IsIn(['html', 'csv', 'json', 'pdf']) format!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
  @ApiProperty({ enum: ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'cron'] })
  @IsIn(['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'cron'])
  frequency!: string;
  @ApiPropertyOptional({
    description: 'Local time of day HH:MM (default 06:00); weekly on Mondays, monthly and longer on the 1st.',
  })
  @IsOptional()
  @IsString()
  time?: string;
  @ApiPropertyOptional({
    description: 'With frequency cron: a 5-field cron expression in timeZone.',
    example: '30 6 * * 1-5',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cron?: string;
  @ApiPropertyOptional({ example: 'Europe/London', description: 'IANA time zone (default UTC); DST-correct.' })
  @IsOptional()
  @IsString()
  timeZone?: string;
  @ApiPropertyOptional({ type: RecipientsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RecipientsDto)
  recipients?: RecipientsDto;
  @ApiPropertyOptional({ description: 'Deliver nothing when the main table is empty.' })
  @IsOptional()
  @IsBoolean()
  skipEmpty?: boolean;
}

export class UpdateReportScheduleDto {
  @ApiProperty({ enum: ['active', 'paused'], description: 'Pause or resume.' })
  @IsIn(['active', 'paused'])
  status!: 'active' | 'paused';
}

export class ReportScheduleDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() template!: string;
  @ApiProperty() format!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) parameters!: Record<string, unknown>;
  @ApiProperty() frequency!: string;
  @ApiProperty() cron!: string;
  @ApiProperty() timeZone!: string;
  @ApiProperty({ type: RecipientsDto }) recipients!: RecipientsDto;
  @ApiProperty() skipEmpty!: boolean;
  @ApiProperty({ enum: ['active', 'paused'] }) status!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: '`owner_inactive` when paused because the owner is no longer active.',
  })
  pausedReason!: string | null;
  @ApiProperty({ type: String, nullable: true }) nextRunAt!: string | null;
  @ApiProperty({ type: [String], description: 'The next five run times (UTC).' }) nextRunTimes!: string[];
  @ApiProperty({ type: String, nullable: true }) lastRunAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastRunId!: string | null;
}

export function mapSchedule(s: ReportScheduleRow, nextRunTimes: string[]): ReportScheduleDto {
  return {
    id: s.id,
    name: s.name,
    template: s.template,
    format: s.format,
    parameters: s.parameters,
    frequency: s.frequency,
    cron: s.cron,
    timeZone: s.timeZone,
    recipients: s.recipients,
    skipEmpty: s.skipEmpty,
    status: s.status,
    pausedReason: s.pausedReason,
    nextRunAt: s.nextRunAt?.toISOString() ?? null,
    nextRunTimes,
    lastRunAt: s.lastRunAt?.toISOString() ?? null,
    lastRunId: s.lastRunId,
  };
}
