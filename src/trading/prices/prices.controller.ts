import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import type { IdempotentRequest } from '../idempotency/idempotency';
import { Idempotent, type IdempotentAnswer, IdempotencyRequest } from '../idempotency/idempotent.decorator';
import { Dec } from '../valuation/decimal';
import {
  BulkPricesDto,
  BulkPricesResultDto,
  MAX_BULK_PRICES,
  PriceDto,
  PriceHistoryQueryDto,
  PriceInputDto,
  PricePageDto,
  SymbolPipe,
} from './dto/price.dto';
import { PricesService } from './prices.service';

const SYMBOL_PARAM = {
  name: 'symbol',
  example: 'AAPL',
  description: 'Instrument symbol (case-insensitive; URL-encode `/` as `%2F`).',
} as const;

@ApiTags('prices')
@Controller({ path: 'prices', version: '1' })
export class PricesController {
  constructor(private readonly prices: PricesService) {}

  @Post()
  @Authenticated('prices:write')
  @ApiOperation({
    summary: 'Publish a price',
    description:
      'Stored per (symbol, asOf): the same symbol and asOf again replaces the price. Portfolios holding the symbol are revalued when it is the latest price.',
  })
  @ApiCreatedResponse({ type: PriceDto, description: 'The price as stored.' })
  @ApiProblems(400)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: PriceInputDto): Promise<PriceDto> {
    await this.prices.recordOne(principal, body);
    return {
      symbol: body.symbol,
      price: new Dec(body.price).toFixed(),
      asOf: new Date(body.asOf).toISOString(),
      createdBy: principal.userId,
    };
  }

  @Post('bulk')
  @Authenticated('prices:write')
  @ApiOperation({
    summary: 'Publish many prices at once',
    description: `Up to ${MAX_BULK_PRICES} prices, all or nothing; a validation error names the item (\`prices.3.price\`). With an \`Idempotency-Key\`, a retry answers the first result again and stores nothing twice.`,
  })
  @ApiBody({ type: BulkPricesDto })
  @ApiCreatedResponse({ type: BulkPricesResultDto })
  @Idempotent()
  @ApiProblems(400, 413)
  bulk(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown, // checked by the service (readPriceBulk), not by the global pipe
    @IdempotencyRequest() idempotency: IdempotentRequest | undefined,
  ): Promise<IdempotentAnswer<BulkPricesResultDto>> {
    return this.prices.recordBulk(principal, body, idempotency);
  }

  @Get(':symbol')
  @Authenticated('prices:read')
  @ApiOperation({
    summary: 'Latest price of a symbol',
    description: 'The stored price with the latest asOf: the one valuations use now. 404 when the symbol has no price.',
  })
  @ApiParam(SYMBOL_PARAM)
  @ApiOkResponse({ type: PriceDto })
  @ApiProblems(400, 404)
  latest(@Param('symbol', SymbolPipe) symbol: string): Promise<PriceDto> {
    return this.prices.latest(symbol);
  }

  @Get(':symbol/history')
  @Authenticated('prices:read')
  @ApiOperation({
    summary: 'Price history of a symbol',
    description:
      'Stored prices of the symbol, newest asOf first. Filters: `from` and `to` (inclusive, on asOf). Paginated with `limit` and `cursor` (the previous page\u2019s `nextCursor`). 404 for a symbol never priced or traded.',
  })
  @ApiParam(SYMBOL_PARAM)
  @ApiOkResponse({ type: PricePageDto })
  @ApiProblems(400, 404)
  history(@Param('symbol', SymbolPipe) symbol: string, @Query() query: PriceHistoryQueryDto): Promise<PricePageDto> {
    return this.prices.history(symbol, query);
  }
}
