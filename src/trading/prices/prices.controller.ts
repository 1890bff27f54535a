import { Body, Controller, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { Dec } from '../valuation/decimal';
import { BulkPricesDto, BulkPricesResultDto, MAX_BULK_PRICES, PriceDto, PriceInputDto } from './dto/price.dto';
import { PricesService } from './prices.service';

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
    description: `Up to ${MAX_BULK_PRICES} prices, all or nothing; a validation error names the item (\`prices.3.price\`).`,
  })
  @ApiBody({ type: BulkPricesDto })
  @ApiCreatedResponse({ type: BulkPricesResultDto })
  @ApiProblems(400, 413)
  bulk(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<BulkPricesResultDto> {
    return this.prices.recordBulk(principal, body);
  }
}
