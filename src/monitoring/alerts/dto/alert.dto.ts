import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsDate,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { Transform } from 'class-transformer';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import type { Delivery } from '../../notifications/notifications.repository';
import { LEVELS, STATES } from '../alert-logic';
import type { Alert, Silence } from '../alerts.repository';

export class AlertDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) ruleId!: string | null;
  @ApiProperty() ruleName!: string;
  @ApiProperty({ description: 'SHA-256 of the rule and label set: one open alert per fingerprint.' })
  fingerprint!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty({ enum: STATES }) state!: string;
  @ApiProperty({ enum: LEVELS }) level!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The value at the last evaluation.' }) value!:
    number | null;
  @ApiProperty({ type: String, nullable: true }) summary!: string | null;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the condition started to hold.' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) firedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) acknowledgedAt!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) acknowledgedBy!: string | null;
  @ApiProperty({ type: String, nullable: true }) acknowledgeNote!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolvedAt!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'Null when resolved automatically.' })
  resolvedBy!: string | null;
  @ApiProperty({ type: String, nullable: true }) resolveNote!: string | null;
  @ApiProperty({ format: 'date-time' }) lastEvaluatedAt!: string;
}

export class AlertPageDto extends PageDto(AlertDto) {}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

export function mapAlert(a: Alert): AlertDto {
  return {
    id: a.id,
    ruleId: a.ruleId,
    ruleName: a.ruleName,
    fingerprint: a.fingerprint,
    labels: a.labels,
    state: a.state,
    level: a.level,
    value: a.value,
    summary: a.summary,
    description: a.description,
    startedAt: a.startedAt.toISOString(),
    firedAt: iso(a.firedAt),
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    acknowledgeNote: a.acknowledgeNote,
    resolvedAt: iso(a.resolvedAt),
    resolvedBy: a.resolvedBy,
    resolveNote: a.resolveNote,
    lastEvaluatedAt: a.lastEvaluatedAt.toISOString(),
  };
}

export class ListAlertsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: STATES })
  @IsOptional()
  @IsIn(STATES)
  state?: (typeof STATES)[number];

  @ApiPropertyOptional({ enum: LEVELS })
  @IsOptional()
  @IsIn(LEVELS)
  level?: (typeof LEVELS)[number];

  @ApiPropertyOptional({ format: 'uuid', description: 'Alerts of this rule.' })
  @IsOptional()
  @IsUUID()
  rule?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Alerts that started at or after.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Alerts that started before.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class AlertNoteDto {
  @ApiPropertyOptional({ maxLength: 2000, example: 'Looking into it: batch job on db-2.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['firing', 'resolved', 'reminder'] }) kind!: string;
  @ApiProperty({ enum: ['webhook', 'email'] }) channel!: string;
  @ApiProperty({ description: 'The webhook URL or the email recipients.' }) destination!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed', 'suppressed'], description: 'suppressed: silenced.' })
  status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: Number, nullable: true }) responseStatus!: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: string | null;
}

export class DeliveryListDto {
  @ApiProperty({ type: [DeliveryDto] }) items!: DeliveryDto[];
}

export function mapDelivery(d: Delivery): DeliveryDto {
  return {
    id: d.id,
    kind: d.kind,
    channel: d.channel,
    destination: d.target.type === 'webhook' ? d.target.url : d.target.to.join(', '),
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    responseStatus: d.responseStatus,
    createdAt: d.createdAt.toISOString(),
    deliveredAt: iso(d.deliveredAt),
  };
}

export class MatcherDto {
  @ApiProperty({ example: 'alertname' })
  @Matches(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/)
  name!: string;

  @ApiProperty({ example: 'HostCpuHigh' })
  @IsString()
  @MaxLength(500)
  value!: string;

  @ApiPropertyOptional({ default: false, description: 'value is an (anchored) regular expression.' })
  @IsOptional()
  @IsBoolean()
  isRegex?: boolean;

  @ApiPropertyOptional({ default: true, description: 'false: the label must NOT match.' })
  @IsOptional()
  @IsBoolean()
  isEqual?: boolean;
}

export class CreateSilenceDto {
  @ApiProperty({ type: [MatcherDto], description: 'Every matcher must match an alert’s labels.' })
  @ValidateNested({ each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Type(() => MatcherDto)
  matchers!: MatcherDto[];

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Default: now.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  startsAt?: Date;

  @ApiProperty({ type: String, format: 'date-time' })
  @Type(() => Date)
  @IsDate()
  endsAt!: Date;

  @ApiProperty({ example: 'Planned maintenance of db-2', maxLength: 2000 })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  comment!: string;
}

export class SilenceDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: [MatcherDto] }) matchers!: MatcherDto[];
  @ApiProperty({ format: 'date-time' }) startsAt!: string;
  @ApiProperty({ format: 'date-time' }) endsAt!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) createdBy!: string | null;
  @ApiProperty() comment!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'Whether it mutes notifications now.' }) active!: boolean;
}

export class SilenceListDto {
  @ApiProperty({ type: [SilenceDto] }) items!: SilenceDto[];
}

export class ListSilencesQueryDto {
  @ApiPropertyOptional({ description: 'Include expired silences.' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => value === 'true' || value === true)
  @IsBoolean()
  includeExpired?: boolean;
}

export function mapSilence(s: Silence, now = new Date()): SilenceDto {
  return {
    id: s.id,
    matchers: s.matchers,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    createdAt: s.createdAt.toISOString(),
    active: s.startsAt <= now && s.endsAt > now,
  };
}
