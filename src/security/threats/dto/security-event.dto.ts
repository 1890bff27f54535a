import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsIP, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import {
  type SecurityEvent,
  SECURITY_EVENT_TYPES,
  type SecurityEventType,
  SEVERITIES,
  type Severity,
} from '../security-event.entity';

export class SecurityEventDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: SECURITY_EVENT_TYPES })
  type!: string;

  @ApiProperty({ enum: SEVERITIES })
  severity!: string;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  userId!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { accounts: 10, attempts: 30, pattern: 'stuffing' },
  })
  details!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  occurredAt!: string;
}

export function mapSecurityEvent(e: SecurityEvent): SecurityEventDto {
  return {
    id: e.id,
    type: e.type,
    severity: e.severity,
    ip: e.ip,
    userId: e.userId,
    details: e.details,
    occurredAt: e.occurredAt.toISOString(),
  };
}

export class SecurityEventPageDto extends PageDto(SecurityEventDto) {}

export class ListSecurityEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: SECURITY_EVENT_TYPES })
  @IsOptional()
  @IsIn(SECURITY_EVENT_TYPES)
  type?: SecurityEventType;

  @ApiPropertyOptional({ enum: SEVERITIES })
  @IsOptional()
  @IsIn(SEVERITIES)
  severity?: Severity;

  @ApiPropertyOptional({ example: '203.0.113.7' })
  @IsOptional()
  @IsIP()
  ip?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'From this time (inclusive).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Before this time (exclusive).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
