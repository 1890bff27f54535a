import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';
import { PortfolioDto } from '../../portfolios/dto/portfolio.dto';

export class PositionsQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-03-31T21:00:00Z',
    description:
      'Value the portfolio as it stood at this moment: trades executed up to it, prices observed up to it. Computed from the trade history (slower than the maintained positions read without it).',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'asOf must be an ISO 8601 date-time' })
  asOf?: string;
}

const money = (description: string, example = '1234.5') => ({ example, description });
const nullableMoney = (description: string, example = '1234.5') => ({
  type: String,
  nullable: true,
  example,
  description,
});

export class PositionDto {
  @ApiProperty({ example: 'AAPL' })
  symbol!: string;

  @ApiProperty(money('Held quantity; negative for a short, 0 once closed.', '100'))
  quantity!: string;

  @ApiProperty(nullableMoney('costBasis / quantity (buy fees included); null when flat.', '187.25'))
  averageCost!: string | null;

  @ApiProperty(money('What the open quantity cost, fees included; negative for a short (its net proceeds).'))
  costBasis!: string;

  @ApiProperty(nullableMoney('The price used: the latest observed (at or before asOf); null if none.', '189.1'))
  price!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When that price was observed.' })
  priceAsOf!: string | null;

  @ApiProperty(nullableMoney('quantity × price; null without a price.'))
  marketValue!: string | null;

  @ApiProperty(nullableMoney('marketValue − costBasis; null without a price.'))
  unrealisedPnl!: string | null;

  @ApiProperty(money('Profit taken on closed quantity, net of all fees.'))
  realisedPnl!: string;

  @ApiProperty(money('Every fee paid on this symbol (already inside costBasis or realisedPnl).', '12.5'))
  fees!: string;

  @ApiProperty({ example: 42 })
  tradeCount!: number;
}

export class PortfolioTotalsDto {
  @ApiProperty(money('Sum of position cost bases.'))
  costBasis!: string;

  @ApiProperty(money('Sum over priced positions.'))
  marketValue!: string;

  @ApiProperty(money('Sum over priced positions.'))
  unrealisedPnl!: string;

  @ApiProperty(money('Sum over all positions, closed ones included.'))
  realisedPnl!: string;

  @ApiProperty(money('realisedPnl + unrealisedPnl.'))
  totalPnl!: string;

  @ApiProperty(money('Every fee paid.', '12.5'))
  fees!: string;

  @ApiProperty({ example: 3 })
  openPositions!: number;

  @ApiProperty({
    type: [String],
    description: 'Open positions without a price: left out of marketValue and unrealisedPnl.',
  })
  unpricedSymbols!: string[];
}

export class PositionsDto {
  @ApiProperty({ format: 'uuid' })
  portfolioId!: string;

  @ApiProperty({ example: 'USD', description: 'Every amount is in this currency.' })
  baseCurrency!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The asOf asked for; null for now (maintained positions, latest prices).',
  })
  asOf!: string | null;

  @ApiProperty({ format: 'date-time', description: 'When this valuation was computed.' })
  valuedAt!: string;

  @ApiProperty({ type: [PositionDto], description: 'By symbol, closed positions included (quantity 0).' })
  positions!: PositionDto[];

  @ApiProperty({ type: PortfolioTotalsDto })
  totals!: PortfolioTotalsDto;
}

/** `GET /api/v2/portfolios/:id`: the v1 portfolio with its positions and totals embedded. */
export class PortfolioV2Dto extends PortfolioDto {
  @ApiProperty({ type: [PositionDto], description: 'As GET /api/v1/portfolios/{id}/positions returns them.' })
  positions!: PositionDto[];

  @ApiProperty({ type: PortfolioTotalsDto })
  totals!: PortfolioTotalsDto;

  @ApiProperty({ format: 'date-time', description: 'When the embedded valuation was computed.' })
  valuedAt!: string;
}
