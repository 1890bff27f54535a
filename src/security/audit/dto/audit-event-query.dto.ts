import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../../common/pagination/pagination';
import type { AuditActorType, AuditOutcome } from '../audit-chain';
import { AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES } from './audit-event.dto';

/** A date, or a date-time with an explicit offset: never a local time the server would guess. */
const ZONED_ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const ZONED_MESSAGE = '$property must be a date or a date-time with a time zone (Z or ±hh:mm)';

/** `GET /api/v1/audit-events`: every filter is optional and they combine with AND. */
export class AuditEventQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only entries by this actor (user id, API key id or component name).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  actorId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTOR_TYPES, enumName: 'AuditActorType' })
  @IsOptional()
  @IsIn(AUDIT_ACTOR_TYPES)
  actorType?: AuditActorType;

  @ApiPropertyOptional({ description: 'Exact action name.', example: 'auth.login' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  action?: string;

  @ApiPropertyOptional({ example: 'user' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  targetType?: string;

  @ApiPropertyOptional({ description: 'Usually combined with `targetType`.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  targetId?: string;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES, enumName: 'AuditOutcome' })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-11-01T00:00:00Z',
    description: 'Entries at or after this instant (ISO 8601; a date alone means 00:00 UTC).',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(ZONED_ISO_8601, { message: ZONED_MESSAGE })
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-01T00:00:00Z',
    description: 'Entries strictly before this instant (ISO 8601; a date alone means 00:00 UTC).',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(ZONED_ISO_8601, { message: ZONED_MESSAGE })
  to?: string;
}
