import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SHARE_ACCESS, type ShareAccess } from '../../entities/portfolio-share.entity';
import { Trim } from '../../../common/validation/trim.decorator';
import { PageDto } from '../../../common/pagination/pagination';
import { toUpper } from '../../dto/input-rules';
import type { PortfolioRow } from '../portfolios.service';

export class CreatePortfolioDto {
  @ApiProperty({ example: 'Global equities', maxLength: 100 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

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
    baseCurrency: p.baseCurrency,
    allowShort: p.allowShort,
    sharedWith: p.sharedWith,
    shares: p.shares.map((s) => ({ groupId: s.groupId, access: s.access })),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
