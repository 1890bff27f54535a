import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type { AlertLevel } from '../../monitoring.events';
import { LEVELS, type Operator, OPERATORS } from '../alert-logic';
import type { AlertRule } from '../alert-rules.repository';

export class AnnotationsDto {
  @ApiPropertyOptional({
    example: 'CPU at {{ value }}% on {{ labels.instance }}',
    description: 'Placeholders: `{{ value }}`, `{{ threshold }}`, `{{ rule }}`, `{{ labels.<name> }}`.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  summary?: string;

  @ApiPropertyOptional({ description: 'Longer text; same placeholders as summary.' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ example: 'https://runbooks.example.com/cpu' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  @MaxLength(500)
  runbookUrl?: string;
}

export class NotificationTargetDto {
  @ApiProperty({ enum: ['webhook', 'email'] })
  @IsIn(['webhook', 'email'])
  type!: 'webhook' | 'email';

  @ApiPropertyOptional({
    example: 'https://hooks.example.com/alerts',
    description: 'webhook: where the Alertmanager-shaped JSON (version 4) is POSTed.',
  })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({
    writeOnly: true,
    description:
      'webhook: HMAC-SHA256 key; each request carries `X-Bastion-Signature: sha256=<hex>` of `<X-Bastion-Timestamp>.<body>`. Stored encrypted, never returned; omitted on update, the stored one for the same URL is kept.',
  })
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(256)
  secret?: string;

  @ApiPropertyOptional({ type: [String], example: ['oncall@example.com'], description: 'email: recipients.' })
  @IsOptional()
  @IsEmail({}, { each: true })
  @ArrayMaxSize(20)
  to?: string[];

  @ApiPropertyOptional({
    writeOnly: true,
    example: 'smtps://user:password@smtp.example.com:465',
    description:
      'email: SMTP server for this target instead of SMTP_URL (may hold a password: stored encrypted, never returned).',
  })
  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'smtpUrl must be an smtp:// or smtps:// URL' })
  @MaxLength(500)
  smtpUrl?: string;
}

export class CreateAlertRuleDto {
  @ApiProperty({ example: 'IngestionStopped', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ example: 'host_cpu_usage_percent', description: 'A metric of the catalogue.' })
  @IsString()
  @MaxLength(200)
  metric!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { mount: '/' },
    description: 'Only series whose labels equal these (e.g. one mount or one core).',
  })
  @IsOptional()
  @IsObject()
  matchers?: Record<string, string>;

  @ApiProperty({ enum: OPERATORS })
  @IsIn(OPERATORS)
  operator!: Operator;

  @ApiProperty({ example: 80 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  threshold!: number;

  @ApiPropertyOptional({
    example: 300,
    default: 0,
    description: 'Seconds the condition must hold before the alert fires (0: at once).',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 86_400)
  forSeconds?: number;

  @ApiProperty({ enum: LEVELS })
  @IsIn(LEVELS)
  level!: AlertLevel;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { team: 'platform' },
    description: 'Added to the labels of its alerts.',
  })
  @IsOptional()
  @IsObject()
  labels?: Record<string, string>;

  @ApiPropertyOptional({ type: AnnotationsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AnnotationsDto)
  annotations?: AnnotationsDto;

  @ApiPropertyOptional({ type: [NotificationTargetDto] })
  @IsOptional()
  @ValidateNested({ each: true })
  @ArrayMaxSize(10)
  @Type(() => NotificationTargetDto)
  targets?: NotificationTargetDto[];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateAlertRuleDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  metric?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  matchers?: Record<string, string>;

  @ApiPropertyOptional({ enum: OPERATORS })
  @IsOptional()
  @IsIn(OPERATORS)
  operator?: Operator;

  @ApiPropertyOptional()
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  threshold?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 86_400)
  forSeconds?: number;

  @ApiPropertyOptional({ enum: LEVELS })
  @IsOptional()
  @IsIn(LEVELS)
  level?: AlertLevel;

  @ApiPropertyOptional()
  @IsOptional()
  @IsObject()
  labels?: Record<string, string>;

  @ApiPropertyOptional({ type: AnnotationsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AnnotationsDto)
  annotations?: AnnotationsDto;

  @ApiPropertyOptional({ type: [NotificationTargetDto], description: 'Replaces the targets.' })
  @IsOptional()
  @ValidateNested({ each: true })
  @ArrayMaxSize(10)
  @Type(() => NotificationTargetDto)
  targets?: NotificationTargetDto[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class NotificationTargetViewDto {
  @ApiProperty({ enum: ['webhook', 'email'] })
  type!: 'webhook' | 'email';

  @ApiPropertyOptional()
  url?: string;

  @ApiPropertyOptional({ description: 'webhook: whether a signing secret is stored (it is never shown).' })
  secretSet?: boolean;

  @ApiPropertyOptional({ type: [String] })
  to?: string[];

  @ApiPropertyOptional({ description: 'email: whether a target-specific SMTP URL is stored (never shown).' })
  smtpUrlSet?: boolean;
}

export class AlertRuleDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty() metric!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) matchers!: Record<string, string>;
  @ApiProperty({ enum: OPERATORS }) operator!: string;
  @ApiProperty() threshold!: number;
  @ApiProperty() forSeconds!: number;
  @ApiProperty({ enum: LEVELS }) level!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty({ type: AnnotationsDto }) annotations!: AnnotationsDto;
  @ApiProperty({ type: [NotificationTargetViewDto] }) targets!: NotificationTargetViewDto[];
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class AlertRuleListDto {
  @ApiProperty({ type: [AlertRuleDto] }) items!: AlertRuleDto[];
}

export class MetricDescriptorDto {
  @ApiProperty({ example: 'host_cpu_usage_percent' }) name!: string;
  @ApiProperty() help!: string;
  @ApiProperty({ example: 'percent' }) unit!: string;
  @ApiProperty({ type: [String], example: ['core'] }) labels!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'Its Prometheus gauge, if exposed as one.' })
  prometheus!: string | null;
}

export class MetricCatalogueDto {
  @ApiProperty({ type: [MetricDescriptorDto] }) items!: MetricDescriptorDto[];
  @ApiProperty({ enum: OPERATORS, isArray: true }) operators!: string[];
  @ApiProperty({ enum: LEVELS, isArray: true }) levels!: string[];
}

export function mapAlertRule(r: AlertRule): AlertRuleDto {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    metric: r.metric,
    matchers: r.matchers,
    operator: r.operator,
    threshold: r.threshold,
    forSeconds: r.forSeconds,
    level: r.level,
    labels: r.labels,
    annotations: r.annotations,
    targets: r.targets.map((t) =>
      t.type === 'webhook'
        ? { type: t.type, url: t.url, secretSet: t.secret !== null }
        : { type: t.type, to: t.to, smtpUrlSet: t.smtpUrl !== null },
    ),
    enabled: r.enabled,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
