import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import type { IdempotentRequest } from '../idempotency/idempotency';
import { Idempotent, type IdempotentAnswer, IdempotencyRequest } from '../idempotency/idempotent.decorator';
import {
  BulkTradesDto,
  BulkTradesResultDto,
  MAX_BULK_TRADES,
  TradeDto,
  TradeInputDto,
  TradePageDto,
  TradeQueryDto,
} from './dto/trade.dto';
import { TradesService } from './trades.service';

const UUID = new ParseUUIDPipe();

@ApiTags('trades')
@Controller({ path: 'portfolios/:id/trades', version: '1' })
export class TradesController {
  constructor(private readonly trades: TradesService) {}

  @Get()
  @Authenticated('trades:read')
  @ApiOperation({
    summary: 'List the trades of a portfolio',
    description: 'Newest execution first; filter by symbol and execution time.',
  })
  @ApiOkResponse({ type: TradePageDto })
  @ApiProblems(400, 404)
  list(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Query() query: TradeQueryDto,
  ): Promise<TradePageDto> {
    return this.trades.list(principal, id, query);
  }

  @Post()
  @HttpCode(201)
  @Authenticated('trades:write')
  @ApiOperation({
    summary: 'Record a trade',
    description:
      'Needs the portfolio\u2019s ownership, a share with write access to a group of the caller, or `trades:write-any` (403 otherwise; `portfolios:read-all` is read-only). A sell larger than the position is refused (409 INSUFFICIENT_POSITION) unless the portfolio allows shorts. A trade whose externalId is already stored with the same content is not stored again: the stored trade comes back with 200. The same externalId with different content is 409 EXTERNAL_ID_CONFLICT.',
  })
  @ApiCreatedResponse({ type: TradeDto, description: 'Recorded.' })
  @ApiOkResponse({ type: TradeDto, description: 'Already recorded under this externalId; nothing stored.' })
  @Idempotent()
  @ApiProblems(400, 404, 409, 413)
  create(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: TradeInputDto,
    @IdempotencyRequest() idempotency: IdempotentRequest | undefined,
  ): Promise<IdempotentAnswer<TradeDto>> {
    return this.trades.recordOne(principal, id, body, idempotency);
  }

  @Post('bulk')
  @HttpCode(201)
  @Authenticated('trades:write')
  @ApiOperation({
    summary: 'Record many trades at once',
    description: `Needs the portfolio\u2019s ownership, a share with write access to a group of the caller, or \`trades:write-any\` (403 otherwise; \`portfolios:read-all\` is read-only). Up to ${MAX_BULK_TRADES} trades, all or nothing. Validation errors name the item (\`errors[].field\` such as \`trades.3.price\`) and nothing is stored. Items whose externalId is already stored with the same content are skipped and listed in \`duplicates\`; the others are stored. 201 when something was stored, 200 when every item was a duplicate.`,
  })
  @ApiCreatedResponse({ type: BulkTradesResultDto, description: 'Stored.' })
  @ApiOkResponse({ type: BulkTradesResultDto, description: 'Every item was already stored; nothing new.' })
  @ApiBody({ type: BulkTradesDto })
  @Idempotent()
  @ApiProblems(400, 404, 409, 413)
  bulk(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: unknown, // checked by the service (readTradeBulk), not by the global pipe
    @IdempotencyRequest() idempotency: IdempotentRequest | undefined,
  ): Promise<IdempotentAnswer<BulkTradesResultDto>> {
    return this.trades.recordBulk(principal, id, body, idempotency);
  }
}
