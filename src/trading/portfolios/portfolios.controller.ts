import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ETAG_RESPONSE_HEADER, ETagged, IfMatchGuarded } from '../../common/http/etag';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { PositionsDto, PositionsQueryDto } from '../positions/dto/positions.dto';
import { PositionsService } from '../positions/positions.service';
import {
  CreatePortfolioDto,
  ListPortfoliosQueryDto,
  mapPortfolio,
  PortfolioDto,
  PortfolioPageDto,
  SharePortfolioDto,
  UpdatePortfolioDto,
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
      'Those the caller owns or that are shared with a group the caller belongs to (every portfolio with `portfolios:read-all`). Sorted by name (case-insensitive), then id. Filter: `includeArchived=true` also lists archived portfolios (hidden by default). Paginated with `limit` and `cursor` (the previous page\u2019s `nextCursor`).',
  })
  @ApiOkResponse({ type: PortfolioPageDto })
  @ApiProblems(400)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListPortfoliosQueryDto,
  ): Promise<PortfolioPageDto> {
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
    description:
      'The portfolio only (v1), archived or not. `GET /api/v2/portfolios/{id}` embeds its positions and totals. The `ETag` is the one `PATCH` and `DELETE` take in `If-Match`; `If-None-Match` with it answers 304 while nothing changed.',
  })
  @ApiOkResponse({ type: PortfolioDto, headers: ETAG_RESPONSE_HEADER })
  @ETagged()
  @ApiProblems(400, 404)
  async get(@CurrentPrincipal() principal: Principal, @Param('id', UUID) id: string): Promise<PortfolioDto> {
    return mapPortfolio(await this.portfolios.requireAccess(principal, id));
  }

  @Patch(':id')
  @Authenticated('portfolios:update')
  @ApiOperation({
    summary: 'Rename a portfolio, change its description or base currency',
    description:
      'Owner only (403 for others who can see it; 404 for those who cannot). Absent fields stay as they are. The base currency changes only while the portfolio has no trades (409 CONFLICT); an archived portfolio cannot be changed (409 PORTFOLIO_ARCHIVED). With `If-Match` (the `ETag` of `GET /api/v1/portfolios/{id}`), a portfolio changed since is refused with 412 and nothing changes. Audited. Answers the portfolio with its new `ETag`.',
  })
  @ApiOkResponse({ type: PortfolioDto, headers: ETAG_RESPONSE_HEADER })
  @IfMatchGuarded()
  @ApiProblems(400, 403, 404, 409)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: UpdatePortfolioDto,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<PortfolioDto> {
    return mapPortfolio(await this.portfolios.update(principal, id, body, ifMatch));
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated('portfolios:update')
  @ApiOperation({
    summary: 'Archive a portfolio',
    description:
      'A soft delete, owner only (403 for others who can see it). Its trades, positions and history are kept and stay readable by id; it takes no new trades (409 PORTFOLIO_ARCHIVED) and no changes, and lists leave it out unless `includeArchived=true`. Archiving an archived portfolio changes nothing (204). `If-Match` as for PATCH (412 on a stale tag). Audited.',
  })
  @ApiNoContentResponse({ description: 'Archived.' })
  @IfMatchGuarded()
  @ApiProblems(400, 403, 404)
  async archive(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.portfolios.archive(principal, id, ifMatch);
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
