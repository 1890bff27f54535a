import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { PortfolioV2Dto } from '../positions/dto/positions.dto';
import { PositionsService } from '../positions/positions.service';
import { mapPortfolio } from './dto/portfolio.dto';
import { PortfoliosService } from './portfolios.service';

/** Version 2 of the portfolio resource: the portfolio with its valuation embedded. */
@ApiTags('portfolios')
@Controller({ path: 'portfolios', version: '2' })
export class PortfoliosV2Controller {
  constructor(
    private readonly portfolios: PortfoliosService,
    private readonly positions: PositionsService,
  ) {}

  @Get(':id')
  @Authenticated('portfolios:read')
  @ApiOperation({
    summary: 'Get a portfolio with its positions and totals',
    description:
      'The v1 portfolio plus `positions`, `totals` and `valuedAt`, as `GET /api/v1/portfolios/{id}/positions` computes them (latest prices).',
  })
  @ApiOkResponse({ type: PortfolioV2Dto })
  @ApiProblems(400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<PortfolioV2Dto> {
    const portfolio = await this.portfolios.requireAccess(principal, id);
    const valuation = await this.positions.value(portfolio);
    return {
      ...mapPortfolio(portfolio),
      positions: valuation.positions,
      totals: valuation.totals,
      valuedAt: valuation.valuedAt,
    };
  }
}
