import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { PageDto } from '../../common/pagination/pagination';
import type { Session } from '../sessions/session.entity';
import type { UserActivity } from '../../users/activity/user-activity.entity';
import { ACTIVITY_TYPES } from '../../users/activity/user-activity.entity';

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  lastSeenAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Ends if unused until then.' })
  idleExpiresAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Ends at this time whatever happens.' })
  absoluteExpiresAt!: string;

  @ApiProperty({ description: 'The session of the token making this request.' })
  current!: boolean;
}

export function mapSession(s: Session, currentId?: string): SessionDto {
  return {
    id: s.id,
    ip: s.ip,
    userAgent: s.userAgent,
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt.toISOString(),
    idleExpiresAt: s.idleExpiresAt.toISOString(),
    absoluteExpiresAt: s.absoluteExpiresAt.toISOString(),
    current: s.id === currentId,
  };
}

export class ActivityDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ACTIVITY_TYPES })
  type!: string;

  @ApiProperty({ type: String, nullable: true })
  ip!: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The API key used, if any.' })
  apiKeyId!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  details!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  occurredAt!: string;
}

export function mapActivity(a: UserActivity): ActivityDto {
  return {
    id: a.id,
    type: a.type,
    ip: a.ip,
    userAgent: a.userAgent,
    apiKeyId: a.apiKeyId,
    details: a.details,
    occurredAt: a.occurredAt.toISOString(),
  };
}

export class SessionListDto {
  @ApiProperty({ type: [SessionDto] })
  items!: SessionDto[];
}

export class ActivityPageDto extends PageDto(ActivityDto) {}

/** An API key revoked as part of a password change, "sign out everywhere" or a suspension. */
export class RevokedApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Market data feed' })
  name!: string;

  @ApiProperty({ example: 'bst_Q2x9fA7b' })
  prefix!: string;
}

export class PasswordChangedDto {
  @ApiProperty({ example: 2, description: 'How many of my other sessions were ended.' })
  otherSessionsEnded!: number;

  @ApiProperty({ type: [RevokedApiKeyDto], description: 'Keys revoked with `revokeApiKeys: true`; else empty.' })
  revokedApiKeys!: RevokedApiKeyDto[];
}

export class SignedOutEverywhereDto {
  @ApiProperty({ example: 2, description: 'How many sessions were ended.' })
  revoked!: number;

  @ApiProperty({ type: [RevokedApiKeyDto], description: 'Keys revoked with `revokeApiKeys=true`; else empty.' })
  revokedApiKeys!: RevokedApiKeyDto[];
}

export class SignOutEverywhereQueryDto {
  @ApiPropertyOptional({ description: 'Also revoke every API key of mine.', default: false })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => value === 'true' || value === true)
  @IsBoolean()
  revokeApiKeys?: boolean;
}
