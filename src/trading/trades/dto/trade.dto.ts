import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import { TRADE_SIDES, type TradeSide } from '../../entities/trade.entity';
import { MAX_BULK_ITEMS } from '../../dto/bulk-input.validator';
import { IsDecimalString } from '../../dto/decimal-string.decorator';
import { EXTERNAL_ID, ISO8601_OPTIONS, MESSAGES, SYMBOL, TIMESTAMP, toUpper } from '../../dto/input-rules';

/** The largest bulk request: all of it is validated and stored in one transaction. */
export const MAX_BULK_TRADES = MAX_BULK_ITEMS;

export class TradeInputDto {
  @ApiProperty({
    example: 'AAPL',
    maxLength: 32,
    description: 'Instrument symbol (upper-cased); an unknown symbol creates the instrument.',
  })
  @Transform(toUpper)
  @IsString({ message: (a) => MESSAGES.string(a.property) })
  @Matches(SYMBOL, { message: (a) => MESSAGES.symbol(a.property) })
  symbol!: string;

  @ApiProperty({ enum: TRADE_SIDES })
  @IsIn(TRADE_SIDES, { message: (a) => MESSAGES.side(a.property) })
  side!: TradeSide;

  @ApiProperty({ example: '100', description: 'Decimal string > 0, up to 12 integer and 8 fraction digits.' })
  @IsDecimalString({ positive: true })
  quantity!: string;

  @ApiProperty({
    example: '187.25',
    description: 'Price per unit in the portfolio base currency; decimal string >= 0.',
  })
  @IsDecimalString()
  price!: string;

  @ApiPropertyOptional({ example: '1.5', default: '0', description: 'Total fees of the trade; decimal string >= 0.' })
  @IsOptional()
  @IsDecimalString()
  fees?: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-03-02T14:30:00.125Z',
    description: 'ISO 8601 with a time zone; millisecond precision at most.',
  })
  @IsISO8601(ISO8601_OPTIONS, { message: (a) => MESSAGES.iso8601(a.property) })
  @Matches(TIMESTAMP, { message: (a) => MESSAGES.timestamp(a.property) })
  executedAt!: string;

  @ApiPropertyOptional({
    example: 'FIX-20260302-000123',
    maxLength: 128,
    description:
      'Your id for the trade, unique per portfolio: a trade resent with the same externalId is never stored twice.',
  })
  @IsOptional()
  @Matches(EXTERNAL_ID, { message: (a) => MESSAGES.externalId(a.property) })
  externalId?: string;
}

/**
 * The bulk body, for the OpenAPI document only: the handler takes it unparsed and readTradeBulk
 * checks it with TradeInputDto's rules (much faster than class-validator for 10,000 items).
 */
export class BulkTradesDto {
  @ApiProperty({ type: [TradeInputDto], minItems: 1, maxItems: MAX_BULK_TRADES })
  trades!: TradeInputDto[];
}

export class TradeDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  portfolioId!: string;

  @ApiProperty({ example: 'AAPL' })
  symbol!: string;

  @ApiProperty({ enum: TRADE_SIDES })
  side!: TradeSide;

  @ApiProperty({ example: '100' })
  quantity!: string;

  @ApiProperty({ example: '187.25' })
  price!: string;

  @ApiProperty({ example: '1.5' })
  fees!: string;

  @ApiProperty({ format: 'date-time' })
  executedAt!: string;

  @ApiProperty({ type: String, nullable: true })
  externalId!: string | null;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The user who recorded it (for an API key, its owner).',
  })
  createdBy!: string | null;

  @ApiProperty({ format: 'date-time', description: 'When it was recorded.' })
  createdAt!: string;
}

export class TradePageDto extends PageDto(TradeDto) {}

export class TradeQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'AAPL', description: 'Only this symbol.' })
  @IsOptional()
  @Transform(toUpper)
  @IsString({ message: (a) => MESSAGES.string(a.property) })
  @Matches(SYMBOL, { message: (a) => MESSAGES.symbol(a.property) })
  symbol?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Executed at or after.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Executed before.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class DuplicateTradeDto {
  @ApiProperty({ description: 'Index of the item in `trades`.', example: 3 })
  index!: number;

  @ApiProperty({ example: 'FIX-20260302-000123' })
  externalId!: string;

  @ApiProperty({ format: 'uuid', description: 'The trade already stored under this externalId.' })
  tradeId!: string;
}

export class BulkTradesResultDto {
  @ApiProperty({ format: 'uuid' })
  portfolioId!: string;

  @ApiProperty({ description: 'Items in the request.', example: 1000 })
  received!: number;

  @ApiProperty({ description: 'Trades stored by this request.', example: 998 })
  created!: number;

  @ApiProperty({
    type: [DuplicateTradeDto],
    description: 'Items whose externalId was already stored with the same content: skipped, not stored again.',
  })
  duplicates!: DuplicateTradeDto[];

  @ApiProperty({ type: [String], description: 'Symbols whose positions changed.', example: ['AAPL', 'MSFT'] })
  symbols!: string[];
}
