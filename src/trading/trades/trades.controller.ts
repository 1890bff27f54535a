import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../../security/auth/principal';
import { Authenticated, CurrentPrincipal } from '../../security/rbac/authenticated.decorator';
import { ApiIdempotency } from '../idempotency/api-idempotency.decorator';
import { type IdempotentRequest, parseIdempotencyKey, requestHash } from '../idempotency/idempotency';
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

function idempotentRequest(
  principal: Principal,
  req: Request,
  key: string | undefined,
  body: unknown,
): IdempotentRequest | undefined {
  const parsed = parseIdempotencyKey(key);
  if (parsed === undefined) return undefined;
  return {
    userId: principal.userId,
    key: parsed,
    method: req.method,
    path: (req.originalUrl ?? req.url).split('?')[0],
    hash: requestHash(body),
  };
}

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
  @ApiIdempotency()
  @ApiProblems(400, 404, 409, 413)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: TradeInputDto,
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TradeDto> {
    const answer = await this.trades.recordOne(principal, id, body, idempotentRequest(principal, req, key, body));
    res.status(answer.status);
    if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return answer.body;
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
  @ApiIdempotency()
  @ApiProblems(400, 404, 409, 413)
  async bulk(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: unknown, // checked by the service (readTradeBulk), not by the global pipe
    @Headers('idempotency-key') key: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BulkTradesResultDto> {
    const answer = await this.trades.recordBulk(principal, id, body, idempotentRequest(principal, req, key, body));
    res.status(answer.status);
    if (answer.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return answer.body;
  }
}
