import { Trim } from '../../../common/validation/trim.decorator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsBoolean,
  IsDate,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
} from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import { ALL_PERMISSIONS, type Permission } from '../../rbac/permissions';
import { type ApiKey, RATE_TIERS, type RateTier } from '../api-key.entity';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'Market data feed', maxLength: 100 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiProperty({
    enum: ALL_PERMISSIONS,
    isArray: true,
    example: ['portfolios:read', 'trades:read'],
    description: 'A subset of your own permissions.',
  })
  @IsIn(ALL_PERMISSIONS, { each: true })
  @ArrayMinSize(1)
  @ArrayUnique()
  @ArrayMaxSize(ALL_PERMISSIONS.length)
  scopes!: Permission[];

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'When the key stops working: in the future and at most API_KEY_MAX_TTL_DAYS (365) ahead. Omitted: that longest lifetime. `null`: never, only when API_KEY_ALLOW_NO_EXPIRY is on (else 400).',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date | null;

  @ApiPropertyOptional({
    format: 'password',
    description:
      'Your current password: creating a key is a sensitive change. A wrong one answers 400 and counts towards the account lockout like a failed sign-in.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({
    example: '123456',
    description:
      'Instead of the password, for users with MFA on: a current TOTP code (or an unused recovery code), spent here. A wrong one counts towards the lockout.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  code?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['203.0.113.0/24', '2001:db8::/32'],
    description: 'Addresses or CIDR ranges the key may be used from; empty: anywhere.',
  })
  @IsOptional()
  @IsString({ each: true })
  @ArrayMaxSize(50)
  allowedCidrs?: string[];

  @ApiPropertyOptional({
    enum: RATE_TIERS,
    default: 'standard',
    description: 'Requests per minute: see RATE_LIMIT_KEY_TIERS; `bulk` is for administrators only.',
  })
  @IsOptional()
  @IsIn(RATE_TIERS)
  rateTier?: RateTier;
}

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  ownerId!: string;

  @ApiProperty({ example: 'Market data feed' })
  name!: string;

  @ApiProperty({ example: 'bst_Q2x9fA7b', description: 'The first characters of the key, to tell keys apart.' })
  prefix!: string;

  @ApiProperty({ enum: ALL_PERMISSIONS, isArray: true })
  scopes!: string[];

  @ApiProperty({ type: [String] })
  allowedCidrs!: string[];

  @ApiProperty({ enum: RATE_TIERS })
  rateTier!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Updated at most once a minute.' })
  lastUsedAt!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  lastUsedIp!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({
    example: 'bst_Q2x9fA7b...',
    description: 'The key itself: shown this once, never again. Send it as X-API-Key.',
  })
  secret!: string;
}

export function mapApiKey(k: ApiKey): ApiKeyDto {
  return {
    id: k.id,
    ownerId: k.userId,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    allowedCidrs: k.allowedCidrs,
    rateTier: k.rateTier,
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null,
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: k.lastUsedIp,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

export class ApiKeyPageDto extends PageDto(ApiKeyDto) {}

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Everyone\u2019s keys (needs api-keys:read-all).' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => value === 'true' || value === true)
  @IsBoolean()
  all?: boolean;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'One owner\u2019s keys (another user\u2019s needs api-keys:read-all).',
  })
  @IsOptional()
  @IsUUID()
  ownerId?: string;
}
