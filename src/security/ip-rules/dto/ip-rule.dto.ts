import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsDate, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import type { IpRule } from '../ip-rule.entity';

export class CreateIpRuleDto {
  @ApiProperty({
    enum: ['allow', 'deny'],
    description: 'Deny wins. Once any allow rule exists, only matching addresses get in.',
  })
  @IsIn(['allow', 'deny'])
  action!: 'allow' | 'deny';

  @ApiProperty({ example: '203.0.113.0/24', description: 'An IPv4 or IPv6 address or CIDR range.' })
  @IsString()
  @MaxLength(64)
  cidr!: string;

  @ApiPropertyOptional({ example: 'Office egress', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'When the rule lapses; none: never.' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  expiresAt?: Date;
}

export class IpRuleDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['allow', 'deny'] })
  action!: string;

  @ApiProperty({ example: '203.0.113.0/24' })
  cidr!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({
    enum: ['manual', 'config', 'threat'],
    description: 'config: from IP_ALLOW/IP_DENY; threat: an automatic block.',
  })
  source!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  createdBy!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export function mapIpRule(r: IpRule): IpRuleDto {
  return {
    id: r.id,
    action: r.action,
    cidr: r.cidr,
    description: r.description,
    source: r.source,
    expiresAt: r.expiresAt?.toISOString() ?? null,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
  };
}

export class IpRulePageDto extends PageDto(IpRuleDto) {}

export class ListIpRulesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['allow', 'deny'] })
  @IsOptional()
  @IsIn(['allow', 'deny'])
  action?: 'allow' | 'deny';

  @ApiPropertyOptional({ enum: ['manual', 'config', 'threat'] })
  @IsOptional()
  @IsIn(['manual', 'config', 'threat'])
  source?: 'manual' | 'config' | 'threat';

  @ApiPropertyOptional({ description: 'Include rules that have lapsed.' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => value === 'true' || value === true)
  @IsBoolean()
  includeExpired?: boolean;
}
