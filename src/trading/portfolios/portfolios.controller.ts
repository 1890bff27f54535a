import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import { PageQueryDto } from '../../common/pagination/pagination';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { PositionsDto, PositionsQueryDto } from '../positions/dto/positions.dto';
import { PositionsService } from '../positions/positions.service';
import {
  CreatePortfolioDto,
  mapPortfolio,
  PortfolioDto,
  PortfolioPageDto,
  SharePortfolioDto,
} from './dto/portfolio.dto';
import { PortfoliosService } from './portfolios.service';

const UUID = new ParseUUIDPipe();

@ApiTags('portfolios')
@Controller({ path: 'portfolios', version: '1' })
export class PortfoliosController {
  constructor(
    private readonly portfolios: PortfoliosService,
    private readonly positions: PositionsService,
  ) {}

  @Get()
  @Authenticated('portfolios:read')
  @ApiOperation({
    summary: 'List portfolios',
    description:
      'Those the caller owns or that are shared with a group the caller belongs to (every portfolio with `portfolios:read-all`), by name.',
  })
  @ApiOkResponse({ type: PortfolioPageDto })
  @ApiProblems(400)
  async list(@CurrentPrincipal() principal: Principal, @Query() query: PageQueryDto): Promise<PortfolioPageDto> {
    const page = await this.portfolios.list(principal, query);
    return { items: page.items.map(mapPortfolio), nextCursor: page.nextCursor };
  }

  @Post()
  @Authenticated('portfolios:create')
  @ApiOperation({ summary: 'Create a portfolio', description: 'Owned by the caller.' })
  @ApiCreatedResponse({ type: PortfolioDto })
  @ApiProblems(400)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreatePortfolioDto): Promise<PortfolioDto> {
    return mapPortfolio(await this.portfolios.create(principal, body));
  }

  @Get(':id')
  @Authenticated('portfolios:read')
  @ApiOperation({
    summary: 'Get a portfolio',
    description: 'The portfolio only (v1). `GET /api/v2/portfolios/{id}` embeds its positions and totals.',
  })
  @ApiOkResponse({ type: PortfolioDto })
  @ApiProblems(400, 404)
  async get(@CurrentPrincipal() principal: Principal, @Param('id', UUID) id: string): Promise<PortfolioDto> {
    return mapPortfolio(await this.portfolios.requireAccess(principal, id));
  }

  @Get(':id/positions')
  @Authenticated('portfolios:read')
  @ApiOperation({
    summary: 'Positions and P&L of a portfolio',
    description:
      'Average-cost positions valued at the latest prices, with portfolio totals. With `asOf`, as the portfolio stood at that moment.',
  })
  @ApiOkResponse({ type: PositionsDto })
  @ApiProblems(400, 404)
  positionsOf(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Query() query: PositionsQueryDto,
  ): Promise<PositionsDto> {
    return this.positions.forPortfolio(principal, id, query.asOf ? new Date(query.asOf) : undefined);
  }

  @Put(':id/shares/:groupId')
  @HttpCode(204)
  @Authenticated('portfolios:read')
  @ApiOperation({
    summary: 'Share a portfolio with a group, or change the access of a share (idempotent)',
    description:
      'Owner only (403 for others who can see it). Every member of the group then sees it; with `access: write`, members holding `trades:write` may also record trades in it (default `read`). Audited.',
  })
  @ApiNoContentResponse({ description: 'Shared.' })
  @ApiProblems(400, 403, 404)
  async share(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Param('groupId', UUID) groupId: string,
    @Body() body: SharePortfolioDto,
  ): Promise<void> {
    await this.portfolios.share(principal, id, groupId, body.access);
  }

  @Delete(':id/shares/:groupId')
  @HttpCode(204)
  @Authenticated('portfolios:read')
  @ApiOperation({ summary: 'Stop sharing a portfolio with a group', description: 'Owner only. Audited.' })
  @ApiNoContentResponse({ description: 'No longer shared.' })
  @ApiProblems(400, 404)
  async unshare(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Param('groupId', UUID) groupId: string,
  ): Promise<void> {
    await this.portfolios.unshare(principal, id, groupId);
  }
}
