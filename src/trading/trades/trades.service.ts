import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException, type FieldError } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, decodeCursor, type Page, splitTimeSeq, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import { type Answer, IdempotencyService } from '../idempotency/idempotency.service';
import type { IdempotentRequest } from '../idempotency/idempotency';
import { PortfoliosService, type PortfolioRow } from '../portfolios/portfolios.service';
import {
  type ExecutionPoint,
  type PositionSnapshot,
  PositionSnapshotsRepository,
  SNAPSHOT_INTERVAL,
} from '../positions/position-snapshots.repository';
import { PositionsRepository } from '../positions/positions.repository';
import { TradingEventsPublisher } from '../trading-events.publisher';
import { TRADE_EVENT_SAMPLE, TradingEvents } from '../trading.events';
import { uuidv7 } from '../uuid-v7';
import { EMPTY_POSITION, type PositionState } from '../valuation/average-cost';
import { Dec } from '../valuation/decimal';
import { replaySymbol } from '../valuation/position-replay';
import { readTradeBulkInSlices, type TradeItem } from '../dto/bulk-input.validator';
import type { BulkTradesResultDto, DuplicateTradeDto, TradeDto, TradeInputDto } from './dto/trade.dto';
import {
  type HistoryTrade,
  INSERT_CHUNK,
  mapTrade,
  type NewTrade,
  type RawTrade,
  TradesRepository,
} from './trades.repository';

export { INSERT_CHUNK, mapTrade, type NewTrade } from './trades.repository';

/**
 * Trades replayed between two yields to the event loop: a back-dated bulk of 10,000 trades
 * recomputes whole histories, and in embedded mode nothing else may wait behind that for long.
 */
const REPLAY_SLICE = 500;

/** What one ingestion did, before it is shaped into an answer. */
interface Ingested {
  portfolio: PortfolioRow;
  created: NewTrade[];
  duplicates: (DuplicateTradeDto & { existing: RawTrade })[];
  symbols: string[];
  createdAt: Date;
  /** Who recorded the trades (stored as `created_by`). */
  recordedBy: string;
}

type Shape = 'single' | 'bulk';

/**
 * Trade ingestion and listing. A request (one trade or a bulk of up to 10,000) is all or nothing:
 * one transaction that locks the portfolio row (ingestion is serialised per portfolio), skips
 * trades whose externalId is already stored with the same content, checks every sell against the
 * position, inserts the trades with one statement per INSERT_CHUNK rows, and updates the maintained
 * positions, so reads never replay history.
 *
 * A trade executed before the latest trade already recorded for its symbol (out of order) makes
 * that symbol's position be recomputed from its whole history in the same transaction; its
 * figures are then exactly what they would be had the trades arrived in execution order.
 */
@Injectable()
export class TradesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly portfolios: PortfoliosService,
    private readonly idempotency: IdempotencyService,
    private readonly events: TradingEventsPublisher,
    private readonly audit: AuditService,
    private readonly snapshots: PositionSnapshotsRepository,
    private readonly tradesRepo: TradesRepository,
    private readonly positionsRepo: PositionsRepository,
  ) {}

  /** One trade: 201 with the trade, or 200 with the stored one when its externalId is a duplicate. */
  recordOne(
    principal: Principal,
    portfolioId: string,
    input: TradeInputDto,
    idempotency?: IdempotentRequest,
  ): Promise<Answer<TradeDto> & { replayed: boolean }> {
    return this.record(principal, portfolioId, [input], 'single', idempotency) as Promise<
      Answer<TradeDto> & { replayed: boolean }
    >;
  }

  /**
   * A bulk `{trades: [...]}`: 201 when it stored trades, 200 when every item was a duplicate. The
   * body is validated here (readTradeBulkInSlices: the TradeInputDto rules, 1,000 items between
   * two yields to the event loop).
   */
  async recordBulk(
    principal: Principal,
    portfolioId: string,
    body: unknown,
    idempotency?: IdempotentRequest,
  ): Promise<Answer<BulkTradesResultDto> & { replayed: boolean }> {
    const items = await readTradeBulkInSlices(body);
    return this.record(principal, portfolioId, items, 'bulk', idempotency) as Promise<
      Answer<BulkTradesResultDto> & { replayed: boolean }
    >;
  }

  private async record(
    principal: Principal,
    portfolioId: string,
    inputs: TradeItem[],
    shape: Shape,
    idempotency?: IdempotentRequest,
  ): Promise<Answer<TradeDto | BulkTradesResultDto> & { replayed: boolean }> {
    const trades = normalise(inputs, shape);
    let ingested: Ingested | undefined;
    let refused = false;
    const answer = await this.dataSource
      .transaction(async (manager) => {
        const portfolio = await this.portfolios.requireTradeWriter(principal, portfolioId, manager).catch((err) => {
          refused = err instanceof AppException && err.code === ErrorCode.Forbidden;
          throw err;
        });
        return this.idempotency.run(manager, idempotency, async () => {
          ingested = await this.ingest(manager, principal, portfolio, trades, shape);
          return shapeAnswer(ingested, shape);
        });
      })
      .catch(async (err: unknown) => {
        // A refused write into a visible portfolio is a privilege attempt: audited once the
        // transaction has rolled back (in embedded mode its connection is the only one).
        if (refused) {
          await this.audit.recordAlone({
            action: 'trades.recorded',
            targetType: 'portfolio',
            targetId: portfolioId,
            outcome: 'denied',
            details: { shape, received: trades.length, reason: 'not_owner_nor_write_share' },
          });
        }
        throw err;
      });
    if (ingested && !answer.replayed) this.publish(principal, ingested);
    return answer;
  }

  private async ingest(
    manager: EntityManager,
    principal: Principal,
    portfolio: PortfolioRow,
    trades: NewTrade[],
    shape: Shape,
  ): Promise<Ingested> {
    const duplicates = await this.findDuplicates(manager, portfolio.id, trades, shape);
    const skipped = new Set(duplicates.map((d) => d.index));
    const fresh = trades.filter((t) => !skipped.has(t.index));

    // Execution order within the request; seq continues the portfolio's recording order.
    fresh.sort((a, b) => a.executedAt.getTime() - b.executedAt.getTime() || a.index - b.index);
    let seq = BigInt(portfolio.tradeSeq);
    for (const t of fresh) t.seq = ++seq;

    const bySymbol = new Map<string, NewTrade[]>();
    for (const t of fresh) {
      const list = bySymbol.get(t.symbol) ?? [];
      list.push(t);
      bySymbol.set(t.symbol, list);
    }
    const symbols = [...bySymbol.keys()].sort();
    const { positions, held, snapshots, invalidated } = await this.computePositions(
      manager,
      portfolio,
      bySymbol,
      shape,
    );

    let createdAt: Date | null = null;
    if (fresh.length > 0) {
      // A symbol with a position already has its instrument (positions.symbol references it).
      const unseen = symbols.filter((s) => !held.has(s));
      if (unseen.length > 0) await this.tradesRepo.ensureInstruments(manager, unseen, portfolio.baseCurrency);
      for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
        const chunk = fresh.length <= INSERT_CHUNK ? fresh : fresh.slice(i, i + INSERT_CHUNK);
        const at = await this.tradesRepo.insertChunk(manager, portfolio.id, principal.userId, chunk);
        createdAt ??= at;
      }
      await this.positionsRepo.save(manager, portfolio.id, positions, seq);
      await this.snapshots.invalidateAfter(manager, portfolio.id, invalidated);
      await this.snapshots.insert(manager, portfolio.id, snapshots);
    }
    // One entry per request, however many trades it carried.
    await this.audit.record(manager, {
      action: 'trades.recorded',
      targetType: 'portfolio',
      targetId: portfolio.id,
      details: {
        shape,
        received: trades.length,
        created: fresh.length,
        duplicates: duplicates.length,
        symbols: symbols.slice(0, 100),
        ...(symbols.length > 100 ? { symbolCount: symbols.length } : {}),
        ...(fresh.length > 0 ? { firstSeq: fresh[0].seq.toString(), lastSeq: seq.toString() } : {}),
      },
    });
    return {
      portfolio,
      created: fresh,
      duplicates,
      symbols,
      createdAt: createdAt ?? new Date(),
      recordedBy: principal.userId,
    };
  }

  /**
   * Items whose externalId is already stored. Same content (symbol, side, quantity, price, fees,
   * executedAt): a duplicate, skipped. Different content: 409 naming each such item, since the
   * sender is reusing an id for another trade.
   */
  private async findDuplicates(
    manager: EntityManager,
    portfolioId: string,
    trades: NewTrade[],
    shape: Shape,
  ): Promise<(DuplicateTradeDto & { existing: RawTrade })[]> {
    const externalIds = trades.map((t) => t.externalId).filter((id): id is string => id !== null);
    if (externalIds.length === 0) return [];
    const rows = await this.tradesRepo.findByExternalIds(manager, portfolioId, externalIds);
    if (rows.length === 0) return [];
    const stored = new Map(rows.map((r) => [r.external_id!, r]));
    const duplicates: (DuplicateTradeDto & { existing: RawTrade })[] = [];
    const conflicts: FieldError[] = [];
    for (const t of trades) {
      const existing = t.externalId === null ? undefined : stored.get(t.externalId);
      if (!existing) continue;
      if (sameTrade(t, existing)) {
        duplicates.push({ index: t.index, externalId: t.externalId!, tradeId: existing.id, existing });
      } else {
        conflicts.push({
          field: fieldOf(shape, t.index, 'externalId'),
          message: `externalId ${t.externalId} is already used by trade ${existing.id} with different content`,
        });
      }
    }
    if (conflicts.length > 0) {
      throw new AppException(
        ErrorCode.ExternalIdConflict,
        'Some externalIds are already used by other trades of this portfolio; nothing was stored.',
        { errors: conflicts },
      );
    }
    return duplicates;
  }

  /**
   * The new state of every symbol the request touches, checking each sell; nothing is written.
   * Each symbol goes through the pure replay (valuation/position-replay.ts): from its maintained
   * position when the new trades come after its history, else from its whole history merged with
   * them. The event loop is given back between symbols once REPLAY_SLICE trades were replayed.
   */
  private async computePositions(
    manager: EntityManager,
    portfolio: PortfolioRow,
    bySymbol: Map<string, NewTrade[]>,
    shape: Shape,
  ): Promise<{
    positions: Map<string, PositionState>;
    held: Set<string>;
    snapshots: PositionSnapshot[];
    invalidated: ExecutionPoint[];
  }> {
    const result = new Map<string, PositionState>();
    const snapshots: PositionSnapshot[] = [];
    const invalidated: ExecutionPoint[] = [];
    if (bySymbol.size === 0) return { positions: result, held: new Set(), snapshots, invalidated };
    const current = await this.positionsRepo.find(portfolio.id, [...bySymbol.keys()], manager);
    const options = { allowShort: portfolio.allowShort };
    const errors: FieldError[] = [];

    // Out of order: a new trade executed before the last one recorded for its symbol.
    const outOfOrder = [...bySymbol].filter(([symbol, trades]) => {
      const held = current.get(symbol);
      return held?.lastExecutedAt ? trades[0].executedAt < held.lastExecutedAt : false;
    });
    const histories =
      outOfOrder.length > 0
        ? await this.tradesRepo.history(
            manager,
            portfolio.id,
            outOfOrder.map(([symbol]) => symbol),
          )
        : new Map<string, HistoryTrade[]>();

    let sinceYield = 0;
    for (const [symbol, trades] of bySymbol) {
      const history = histories.get(symbol);
      const replayed = replaySymbol({
        start: history ? EMPTY_POSITION : (current.get(symbol) ?? EMPTY_POSITION),
        history: history ?? [],
        incoming: trades,
        options,
        snapshotEvery: SNAPSHOT_INTERVAL,
      });
      if (replayed.ok) {
        result.set(symbol, replayed.state);
        for (const s of replayed.snapshots) snapshots.push({ symbol, ...s });
        // Snapshots after the earliest new trade are stale: dropped, and taken again above.
        if (history) invalidated.push({ symbol, executedAt: trades[0].executedAt, seq: trades[0].seq });
      } else if ('refused' in replayed) {
        errors.push(refusal(shape, replayed.refused.index, symbol, replayed.held.toFixed(), replayed.refused));
      } else {
        // A recorded sell no longer covered once an earlier new trade is inserted before it.
        errors.push({
          field: fieldOf(shape, trades[0].index, 'executedAt'),
          message: `recording this ${symbol} trade before ${replayed.uncovered.executedAt.toISOString()} would leave the recorded sell ${replayed.uncovered.id} selling more than is held`,
        });
      }
      sinceYield += trades.length + (history?.length ?? 0);
      if (sinceYield >= REPLAY_SLICE) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }

    if (errors.length > 0) {
      errors.sort((a, b) => a.field.localeCompare(b.field, 'en', { numeric: true }));
      throw new AppException(
        ErrorCode.InsufficientPosition,
        'Some sells exceed the quantity held, and this portfolio does not allow short positions; nothing was stored.',
        { errors },
      );
    }
    return { positions: result, held: new Set(current.keys()), snapshots, invalidated };
  }

  /** Trades of a visible portfolio, newest execution first. */
  async list(
    principal: Principal,
    portfolioId: string,
    query: { symbol?: string; from?: string; to?: string; limit?: number; cursor?: string },
  ): Promise<Page<TradeDto>> {
    const portfolio = await this.portfolios.requireAccess(principal, portfolioId);
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, 'time-seq');
    const rows = await this.tradesRepo.list(
      portfolio.id,
      {
        symbol: query.symbol,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
        before: after ? splitTimeSeq(after.k) : undefined,
      },
      limit,
    );
    return toPage(rows, limit, (r) => ({ k: `${r.executed_at.toISOString()}|${r.seq}`, id: r.id }), mapTrade);
  }

  private publish(principal: Principal, ingested: Ingested): void {
    if (ingested.created.length === 0) return;
    const at = new Date().toISOString();
    const { portfolio, created, symbols } = ingested;
    this.events.emit(TradingEvents.TradeCreated, {
      portfolioId: portfolio.id,
      ownerId: portfolio.ownerId,
      count: created.length,
      symbols,
      trades: created.slice(0, TRADE_EVENT_SAMPLE).map((t) => ({
        id: t.id,
        symbol: t.symbol,
        side: t.side,
        quantity: t.quantity,
        price: t.price,
        executedAt: t.executedAt.toISOString(),
        externalId: t.externalId,
      })),
      truncated: created.length > TRADE_EVENT_SAMPLE,
      recordedBy: principal.userId,
      at,
    });
    this.events.emit(TradingEvents.PortfolioRevalued, {
      portfolioId: portfolio.id,
      ownerId: portfolio.ownerId,
      reason: 'trades',
      symbols,
      at,
    });
  }
}

function fieldOf(shape: Shape, index: number, field: string): string {
  return shape === 'bulk' ? `trades.${index}.${field}` : field;
}

function refusal(shape: Shape, index: number, symbol: string, held: string, t: NewTrade): FieldError {
  return {
    field: fieldOf(shape, index, 'quantity'),
    message: `selling ${t.quantity} ${symbol} at ${t.executedAt.toISOString()} but only ${held} is held then`,
  };
}

function sameTrade(t: NewTrade, r: RawTrade): boolean {
  return (
    t.symbol === r.symbol &&
    t.side === r.side &&
    new Dec(t.quantity).eq(r.quantity) &&
    new Dec(t.price).eq(r.price) &&
    new Dec(t.fees).eq(r.fees) &&
    t.executedAt.getTime() === r.executed_at.getTime()
  );
}

/**
 * Validated DTOs to trades, with the checks that span items: an externalId may appear only once
 * per request (400 naming the later item).
 */
function normalise(inputs: TradeItem[], shape: Shape): NewTrade[] {
  const seen = new Map<string, number>();
  const errors: FieldError[] = [];
  const trades = inputs.map((input, index): NewTrade => {
    const externalId = input.externalId ?? null; // null is absent, as @IsOptional() treats it
    if (externalId !== null) {
      const first = seen.get(externalId);
      if (first !== undefined) {
        errors.push({
          field: fieldOf(shape, index, 'externalId'),
          message: `externalId ${externalId} is also used by trades.${first} of this request`,
        });
      } else {
        seen.set(externalId, index);
      }
    }
    return {
      index,
      id: uuidv7(),
      seq: 0n,
      symbol: input.symbol,
      side: input.side,
      quantity: input.quantity,
      price: input.price,
      fees: input.fees ?? '0',
      executedAt: new Date(input.executedAt),
      externalId,
    };
  });
  if (errors.length > 0) throw AppException.validation(errors);
  return trades;
}

function shapeAnswer(ingested: Ingested, shape: Shape): Answer<TradeDto | BulkTradesResultDto> {
  if (shape === 'single') {
    const [duplicate] = ingested.duplicates;
    if (duplicate) return { status: 200, body: mapTrade(duplicate.existing) };
    const t = ingested.created[0];
    return {
      status: 201,
      body: {
        id: t.id,
        portfolioId: ingested.portfolio.id,
        symbol: t.symbol,
        side: t.side,
        quantity: new Dec(t.quantity).toFixed(),
        price: new Dec(t.price).toFixed(),
        fees: new Dec(t.fees).toFixed(),
        executedAt: t.executedAt.toISOString(),
        externalId: t.externalId,
        createdBy: ingested.recordedBy,
        createdAt: ingested.createdAt.toISOString(),
      },
    };
  }
  return {
    status: ingested.created.length > 0 ? 201 : 200,
    body: {
      portfolioId: ingested.portfolio.id,
      received: ingested.created.length + ingested.duplicates.length,
      created: ingested.created.length,
      duplicates: ingested.duplicates.map(({ index, externalId, tradeId }) => ({ index, externalId, tradeId })),
      symbols: ingested.symbols,
    },
  };
}
