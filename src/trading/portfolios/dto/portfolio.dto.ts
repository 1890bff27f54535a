import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
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
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
