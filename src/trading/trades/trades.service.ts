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
import { toState } from '../positions/positions.service';
import { TradingEventsPublisher } from '../trading-events.publisher';
import { TRADE_EVENT_SAMPLE, TradingEvents } from '../trading.events';
import { uuidv7 } from '../uuid-v7';
import {
  applyTrade,
  compareExecution,
  EMPTY_POSITION,
  InsufficientPositionError,
  type PositionState,
  type Side,
} from '../valuation/average-cost';
import { Dec, storeDecimal } from '../valuation/decimal';
import { readTradeBulk, type TradeItem } from '../dto/bulk-input.validator';
import type { BulkTradesResultDto, DuplicateTradeDto, TradeDto, TradeInputDto } from './dto/trade.dto';

/** Rows per INSERT statement: one statement per chunk, never one per trade. */
export const INSERT_CHUNK = 1000;

/** A trade as ingestion handles it: validated, normalised, with its index in the request. */
export interface NewTrade {
  index: number;
  id: string;
  seq: bigint;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executedAt: Date;
  externalId: string | null;
}

interface RawTrade {
  id: string;
  portfolio_id: string;
  seq: string;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executed_at: Date;
  external_id: string | null;
  created_by: string | null;
  created_at: Date;
}

export function mapTrade(r: RawTrade): TradeDto {
  return {
    id: r.id,
    portfolioId: r.portfolio_id,
    symbol: r.symbol,
    side: r.side,
    quantity: new Dec(r.quantity).toFixed(),
    price: new Dec(r.price).toFixed(),
    fees: new Dec(r.fees).toFixed(),
    executedAt: r.executed_at.toISOString(),
    externalId: r.external_id,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
  };
}

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
   * body is validated here (readTradeBulk: the TradeInputDto rules, fast enough for 10,000 items).
   */
  recordBulk(
    principal: Principal,
    portfolioId: string,
    body: unknown,
    idempotency?: IdempotentRequest,
  ): Promise<Answer<BulkTradesResultDto> & { replayed: boolean }> {
    const items = readTradeBulk(body);
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
      if (unseen.length > 0) await this.ensureInstruments(manager, unseen, portfolio.baseCurrency);
      for (let i = 0; i < fresh.length; i += INSERT_CHUNK) {
        const at = await this.insertTrades(manager, portfolio.id, principal.userId, fresh.slice(i, i + INSERT_CHUNK));
        createdAt ??= at;
      }
      await this.savePositions(manager, portfolio.id, positions, seq);
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
    const rows = await manager.query<RawTrade[]>(
      `SELECT id, portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id, created_by, created_at
         FROM trades WHERE portfolio_id = $1 AND external_id = ANY($2::text[])`,
      [portfolioId, externalIds],
    );
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

  /** The new state of every symbol the request touches, checking each sell; nothing is written. */
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
    // Every SNAPSHOT_INTERVAL-th trade of a symbol leaves a snapshot of the state after it.
    const snapshots: PositionSnapshot[] = [];
    const invalidated: ExecutionPoint[] = [];
    const snap = (symbol: string, state: PositionState, executedAt: Date, seq: bigint): void => {
      if (state.tradeCount % SNAPSHOT_INTERVAL === 0) snapshots.push({ symbol, executedAt, seq, state });
    };
    if (bySymbol.size === 0) return { positions: result, held: new Set(), snapshots, invalidated };
    const rows = await manager.query<Parameters<typeof toState>[0][]>(
      `SELECT symbol, quantity, cost_basis, realised_pnl, fees, trade_count, last_executed_at
         FROM positions WHERE portfolio_id = $1 AND symbol = ANY($2::text[])`,
      [portfolio.id, [...bySymbol.keys()]],
    );
    const current = new Map(rows.map((r) => [r.symbol, toState(r)]));
    const options = { allowShort: portfolio.allowShort };
    const errors: FieldError[] = [];

    const outOfOrder: string[] = [];
    for (const [symbol, trades] of bySymbol) {
      const held = current.get(symbol);
      if (held?.lastExecutedAt && trades[0].executedAt < held.lastExecutedAt) {
        outOfOrder.push(symbol);
        continue;
      }
      let state = held ?? EMPTY_POSITION;
      let failed = false;
      for (const t of trades) {
        try {
          state = applyTrade(state, t, options);
          snap(symbol, state, t.executedAt, t.seq);
        } catch (err) {
          if (!(err instanceof InsufficientPositionError)) throw err;
          errors.push(refusal(shape, t.index, symbol, err.held.toFixed(), t));
          failed = true;
          break;
        }
      }
      if (!failed) result.set(symbol, state);
    }

    // Out of order: replay those symbols' whole history with the new trades merged in.
    const histories = new Map<string, RawTrade[]>();
    if (outOfOrder.length > 0) {
      const rows = await manager.query<RawTrade[]>(
        `SELECT id, symbol, seq, side, quantity, price, fees, executed_at, external_id
           FROM trades WHERE portfolio_id = $1 AND symbol = ANY($2::text[])
          ORDER BY symbol, executed_at, seq`,
        [portfolio.id, outOfOrder],
      );
      for (const r of rows) {
        const list = histories.get(r.symbol) ?? [];
        list.push(r);
        histories.set(r.symbol, list);
      }
    }
    for (const symbol of outOfOrder) {
      const trades = bySymbol.get(symbol)!;
      const merged: { facts: NewTrade | null; row: RawTrade | null; executedAt: Date; seq: bigint }[] = [
        ...(histories.get(symbol) ?? []).map((r) => ({
          facts: null,
          row: r,
          executedAt: r.executed_at,
          seq: BigInt(r.seq),
        })),
        ...trades.map((t) => ({ facts: t, row: null, executedAt: t.executedAt, seq: t.seq })),
      ].sort(compareExecution);
      let state = EMPTY_POSITION;
      let failed = false;
      // Snapshots after the earliest new trade are stale: dropped, and taken again in this replay.
      const first = merged.findIndex((e) => e.facts !== null);
      invalidated.push({ symbol, executedAt: merged[first].executedAt, seq: merged[first].seq });
      for (const [i, entry] of merged.entries()) {
        const facts = entry.facts ?? {
          side: entry.row!.side,
          quantity: entry.row!.quantity,
          price: entry.row!.price,
          fees: entry.row!.fees,
          executedAt: entry.row!.executed_at,
        };
        try {
          state = applyTrade(state, facts, options);
          if (i >= first) snap(symbol, state, entry.executedAt, entry.seq);
        } catch (err) {
          if (!(err instanceof InsufficientPositionError)) throw err;
          failed = true;
          if (entry.facts) {
            errors.push(refusal(shape, entry.facts.index, symbol, err.held.toFixed(), entry.facts));
          } else {
            // A stored sell no longer covered once an earlier new trade is inserted before it.
            errors.push({
              field: fieldOf(shape, trades[0].index, 'executedAt'),
              message: `recording this ${symbol} trade before ${entry.row!.executed_at.toISOString()} would leave the recorded sell ${entry.row!.id} selling more than is held`,
            });
          }
          break;
        }
      }
      if (!failed) result.set(symbol, state);
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

  /** Creates instruments on first sight (sorted, so concurrent requests lock them in the same order). */
  private async ensureInstruments(manager: EntityManager, symbols: string[], currency: string): Promise<void> {
    await manager.query(
      `INSERT INTO instruments (symbol, currency)
       SELECT s, $2 FROM unnest($1::text[]) AS s ORDER BY s
       ON CONFLICT (symbol) DO NOTHING`,
      [symbols, currency],
    );
  }

  private async insertTrades(
    manager: EntityManager,
    portfolioId: string,
    userId: string,
    chunk: NewTrade[],
  ): Promise<Date> {
    const n = chunk.length;
    const ids = new Array<string>(n);
    const seqs = new Array<string>(n);
    const symbols = new Array<string>(n);
    const sides = new Array<string>(n);
    const quantities = new Array<string>(n);
    const prices = new Array<string>(n);
    const fees = new Array<string>(n);
    const executed = new Array<string>(n);
    const external = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const t = chunk[i];
      ids[i] = t.id;
      seqs[i] = t.seq.toString();
      symbols[i] = t.symbol;
      sides[i] = t.side;
      quantities[i] = t.quantity;
      prices[i] = t.price;
      fees[i] = t.fees;
      executed[i] = t.executedAt.toISOString();
      external[i] = t.externalId;
    }
    // A data-modifying WITH runs to completion whether read or not. created_at is the transaction's
    // start (now()), the same for every row: selecting now() gives it without returning the rows.
    const rows = await manager.query<{ created_at: Date }[]>(
      `WITH inserted AS (
         INSERT INTO trades
           (id, portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id, created_by)
         SELECT u.id, $1, u.seq, u.symbol, u.side, u.quantity, u.price, u.fees, u.executed_at, u.external_id, $2
           FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::numeric[], $8::numeric[],
                       $9::numeric[], $10::timestamptz[], $11::text[])
                AS u(id, seq, symbol, side, quantity, price, fees, executed_at, external_id)
       )
       SELECT now() AS created_at`,
      [portfolioId, userId, ids, seqs, symbols, sides, quantities, prices, fees, executed, external],
    );
    return rows[0].created_at;
  }

  /** Upserts the new positions and moves the portfolio's trade seq on, in one statement. */
  private async savePositions(
    manager: EntityManager,
    portfolioId: string,
    positions: Map<string, PositionState>,
    lastSeq: bigint,
  ): Promise<void> {
    const entries = [...positions.entries()];
    await manager.query(
      `WITH portfolio AS (
         UPDATE portfolios SET trade_seq = $9, updated_at = now() WHERE id = $1
       )
       INSERT INTO positions
         (portfolio_id, symbol, quantity, cost_basis, realised_pnl, fees, trade_count, last_executed_at, updated_at)
       SELECT $1, u.symbol, u.quantity, u.cost_basis, u.realised_pnl, u.fees, u.trade_count, u.last_executed_at, now()
         FROM unnest($2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[], $7::int[],
                     $8::timestamptz[])
              AS u(symbol, quantity, cost_basis, realised_pnl, fees, trade_count, last_executed_at)
       ON CONFLICT (portfolio_id, symbol) DO UPDATE SET
         quantity = EXCLUDED.quantity,
         cost_basis = EXCLUDED.cost_basis,
         realised_pnl = EXCLUDED.realised_pnl,
         fees = EXCLUDED.fees,
         trade_count = EXCLUDED.trade_count,
         last_executed_at = EXCLUDED.last_executed_at,
         updated_at = now()`,
      [
        portfolioId,
        entries.map(([s]) => s),
        entries.map(([, p]) => storeDecimal(p.quantity)),
        entries.map(([, p]) => storeDecimal(p.costBasis)),
        entries.map(([, p]) => storeDecimal(p.realisedPnl)),
        entries.map(([, p]) => storeDecimal(p.fees)),
        entries.map(([, p]) => p.tradeCount),
        entries.map(([, p]) => p.lastExecutedAt!.toISOString()),
        lastSeq.toString(),
      ],
    );
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
    const params: unknown[] = [portfolio.id, limit + 1];
    const where = ['portfolio_id = $1'];
    if (query.symbol) where.push(`symbol = $${params.push(query.symbol)}`);
    if (query.from) where.push(`executed_at >= $${params.push(new Date(query.from))}`);
    if (query.to) where.push(`executed_at < $${params.push(new Date(query.to))}`);
    if (after) {
      const { at, seq } = splitTimeSeq(after.k);
      where.push(`(executed_at, seq) < ($${params.push(at)}, $${params.push(seq)}::bigint)`);
    }
    const rows = await this.dataSource.query<RawTrade[]>(
      `SELECT id, portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id, created_by, created_at
         FROM trades WHERE ${where.join(' AND ')}
        ORDER BY executed_at DESC, seq DESC
        LIMIT $2`,
      params,
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
