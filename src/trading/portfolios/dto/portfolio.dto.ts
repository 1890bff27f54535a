import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { entityTag } from '../../../common/http/etag';
import { PageQueryDto } from '../../../common/pagination/pagination';
import { SHARE_ACCESS, type ShareAccess } from '../../entities/portfolio-share.entity';
import { Trim } from '../../../common/validation/trim.decorator';
import { PageDto } from '../../../common/pagination/pagination';
import { toUpper } from '../../dto/input-rules';
import type { PortfolioRow } from '../portfolios.repository';

export class CreatePortfolioDto {
  @ApiProperty({ example: 'Global equities', maxLength: 100 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ example: 'Long-only book of the London desk', maxLength: 500, default: '' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiProperty({ example: 'USD', description: 'ISO 4217 code; trades are taken to be priced in it.' })
  @Transform(toUpper)
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'baseCurrency must be a three-letter ISO 4217 code such as USD' })
  baseCurrency!: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Sells beyond the held quantity open short positions; otherwise they are refused (409).',
  })
  @IsOptional()
  @IsBoolean()
  allowShort?: boolean;
}

/** `PATCH /portfolios/{id}`: any of the fields; absent ones stay as they are. */
export class UpdatePortfolioDto {
  @ApiPropertyOptional({ example: 'Global equities (hedged)', maxLength: 100 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ example: 'Long-only book of the London desk', maxLength: 500 })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    example: 'EUR',
    description: 'ISO 4217 code. Changes only while the portfolio has no trades (409 otherwise).',
  })
  @IsOptional()
  @Transform(toUpper)
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'baseCurrency must be a three-letter ISO 4217 code such as USD' })
  baseCurrency?: string;
}

/** `true`/`false` in a query string; anything else is left for @IsBoolean to refuse (400). */
const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** `GET /portfolios`: the page, and whether archived portfolios are listed too. */
export class ListPortfoliosQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Also list archived portfolios (hidden by default).',
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'includeArchived must be true or false' })
  includeArchived?: boolean;
}

export class SharePortfolioDto {
  @ApiPropertyOptional({
    enum: SHARE_ACCESS,
    default: 'read',
    description:
      '`read`: members of the group see the portfolio; `write`: members holding `trades:write` may also record trades in it.',
  })
  @IsOptional()
  @IsIn(SHARE_ACCESS)
  access?: ShareAccess;
}

export class PortfolioShareDto {
  @ApiProperty({ format: 'uuid' })
  groupId!: string;

  @ApiProperty({ enum: SHARE_ACCESS })
  access!: ShareAccess;
}

/** v1: the portfolio itself. v2 (`GET /api/v2/portfolios/:id`) adds positions and totals. */
export class PortfolioDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Global equities' })
  name!: string;

  @ApiProperty({ format: 'uuid' })
  ownerId!: string;

  @ApiProperty({ example: 'Long-only book of the London desk', description: 'Empty when none was given.' })
  description!: string;

  @ApiProperty({ example: 'USD' })
  baseCurrency!: string;

  @ApiProperty()
  allowShort!: boolean;

  @ApiProperty({
    type: [String],
    format: 'uuid',
    description: 'Groups whose members see this portfolio.',
  })
  sharedWith!: string[];

  @ApiProperty({
    type: [PortfolioShareDto],
    description: 'The same groups with their access: `write` lets members holding `trades:write` record trades.',
  })
  shares!: PortfolioShareDto[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When it was archived (no new trades; hidden from lists by default); null while active.',
  })
  archivedAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class PortfolioPageDto extends PageDto(PortfolioDto) {}

export function mapPortfolio(p: PortfolioRow): PortfolioDto {
  return {
    id: p.id,
    name: p.name,
    ownerId: p.ownerId,
    description: p.description,
    baseCurrency: p.baseCurrency,
    allowShort: p.allowShort,
    sharedWith: p.sharedWith,
    shares: p.shares.map((s) => ({ groupId: s.groupId, access: s.access })),
    archivedAt: p.archivedAt?.toISOString() ?? null,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** The ETag of a portfolio: that of its v1 representation (`GET /api/v1/portfolios/{id}`). */
export function portfolioTag(p: PortfolioRow): string {
  return entityTag(mapPortfolio(p));
}
