import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import { AppException } from '../../../common/errors/app.exception';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import { MAX_BULK_ITEMS } from '../../dto/bulk-input.validator';
import { IsDecimalString } from '../../dto/decimal-string.decorator';
import { ISO8601_OPTIONS, MESSAGES, SYMBOL, TIMESTAMP, toUpper } from '../../dto/input-rules';

export const MAX_BULK_PRICES = MAX_BULK_ITEMS;

export class PriceInputDto {
  @ApiProperty({
    example: 'AAPL',
    maxLength: 32,
    description: 'Upper-cased; an unknown symbol creates the instrument.',
  })
  @Transform(toUpper)
  @IsString({ message: (a) => MESSAGES.string(a.property) })
  @Matches(SYMBOL, { message: (a) => MESSAGES.symbol(a.property) })
  symbol!: string;

  @ApiProperty({ example: '189.1', description: 'Decimal string >= 0, up to 12 integer and 8 fraction digits.' })
  @IsDecimalString()
  price!: string;

  @ApiProperty({
    format: 'date-time',
    example: '2026-03-02T14:31:00Z',
    description: 'When the price was observed. A price for the same symbol and asOf replaces the stored one.',
  })
  @IsISO8601(ISO8601_OPTIONS, { message: (a) => MESSAGES.iso8601(a.property) })
  @Matches(TIMESTAMP, { message: (a) => MESSAGES.timestamp(a.property) })
  asOf!: string;
}

/** The bulk body, for the OpenAPI document only: readPriceBulk checks it with PriceInputDto's rules. */
export class BulkPricesDto {
  @ApiProperty({ type: [PriceInputDto], minItems: 1, maxItems: MAX_BULK_PRICES })
  prices!: PriceInputDto[];
}

export class PriceDto {
  @ApiProperty({ example: 'AAPL' })
  symbol!: string;

  @ApiProperty({ example: '189.1' })
  price!: string;

  @ApiProperty({ format: 'date-time' })
  asOf!: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      'The user who published it (for an API key, its owner); null for prices stored before this was recorded.',
  })
  createdBy!: string | null;
}

export class BulkPricesResultDto {
  @ApiProperty({ example: 500 })
  received!: number;

  @ApiProperty({
    type: [PriceDto],
    description: 'Per symbol in the request, its latest stored price after this request.',
  })
  latest!: PriceDto[];
}

export class PricePageDto extends PageDto(PriceDto) {}

/**
 * `GET /prices/{symbol}/history`: `?from=&to=` (inclusive, on asOf) and the page. Sorted by asOf,
 * newest first; `nextCursor` continues from the last item.
 */
export class PriceHistoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-03-01T00:00:00Z',
    description: 'Only prices with asOf at or after this.',
  })
  @IsOptional()
  @IsISO8601(ISO8601_OPTIONS, { message: (a) => MESSAGES.iso8601(a.property) })
  @Matches(TIMESTAMP, { message: (a) => MESSAGES.timestamp(a.property) })
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-03-31T23:59:59Z',
    description: 'Only prices with asOf at or before this.',
  })
  @IsOptional()
  @IsISO8601(ISO8601_OPTIONS, { message: (a) => MESSAGES.iso8601(a.property) })
  @Matches(TIMESTAMP, { message: (a) => MESSAGES.timestamp(a.property) })
  to?: string;
}

/** The `{symbol}` path parameter: trimmed, upper-cased, then the symbol rule; else a 400 naming it. */
@Injectable()
export class SymbolPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const symbol = String(toUpper({ value }));
    if (!SYMBOL.test(symbol)) throw AppException.validation([{ field: 'symbol', message: MESSAGES.symbol('symbol') }]);
    return symbol;
  }
}
