import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Side } from '../valuation/average-cost';
import { Dec } from '../valuation/decimal';
import type { RecordedTrade } from '../valuation/position-replay';
import type { TradeDto } from './dto/trade.dto';

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

export interface RawTrade {
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

/** A recorded trade as the position calculator reads it. */
export interface HistoryTrade extends RecordedTrade {
  symbol: string;
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

export interface TradeFilter {
  symbol?: string;
  from?: Date;
  to?: Date;
  /** Keyset: strictly before this (executed_at, seq). */
  before?: { at: Date; seq: string };
}

const COLUMNS =
  'id, portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id, created_by, created_at';

/** Every statement on `trades` (and the `instruments` rows a first trade of a symbol creates). */
@Injectable()
export class TradesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Stored trades of the portfolio carrying one of these externalIds. */
  findByExternalIds(manager: EntityManager, portfolioId: string, externalIds: string[]): Promise<RawTrade[]> {
    return manager.query<RawTrade[]>(
      `SELECT ${COLUMNS} FROM trades WHERE portfolio_id = $1 AND external_id = ANY($2::text[])`,
      [portfolioId, externalIds],
    );
  }

  /**
   * The recorded trades of these symbols in execution order, grouped by symbol: what an
   * out-of-order arrival replays.
   */
  async history(manager: EntityManager, portfolioId: string, symbols: string[]): Promise<Map<string, HistoryTrade[]>> {
    const rows = await manager.query<
      Pick<RawTrade, 'id' | 'symbol' | 'seq' | 'side' | 'quantity' | 'price' | 'fees' | 'executed_at'>[]
    >(
      `SELECT id, symbol, seq, side, quantity, price, fees, executed_at
         FROM trades WHERE portfolio_id = $1 AND symbol = ANY($2::text[])
        ORDER BY symbol, executed_at, seq`,
      [portfolioId, symbols],
    );
    const bySymbol = new Map<string, HistoryTrade[]>();
    for (const r of rows) {
      let list = bySymbol.get(r.symbol);
      if (!list) bySymbol.set(r.symbol, (list = []));
      list.push({
        id: r.id,
        symbol: r.symbol,
        seq: BigInt(r.seq),
        side: r.side,
        quantity: r.quantity,
        price: r.price,
        fees: r.fees,
        executedAt: r.executed_at,
      });
    }
    return bySymbol;
  }

  /**
   * The trades (of `symbols` when given, executed at or before `until` when given) in execution
   * order: what a full replay reads.
   */
  inExecutionOrder(
    portfolioId: string,
    filter: { until?: Date; symbols?: string[] },
    manager?: EntityManager,
  ): Promise<Pick<RawTrade, 'symbol' | 'side' | 'quantity' | 'price' | 'fees' | 'executed_at'>[]> {
    const params: unknown[] = [portfolioId];
    const where = ['portfolio_id = $1'];
    if (filter.until) where.push(`executed_at <= $${params.push(filter.until)}`);
    if (filter.symbols) where.push(`symbol = ANY($${params.push(filter.symbols)}::text[])`);
    return this.m(manager).query(
      `SELECT symbol, side, quantity, price, fees, executed_at
         FROM trades
        WHERE ${where.join(' AND ')}
        ORDER BY executed_at, seq`,
      params,
    );
  }

  /** Creates instruments on first sight (sorted, so concurrent requests lock them in the same order). */
  async ensureInstruments(manager: EntityManager, symbols: string[], currency: string): Promise<void> {
    await manager.query(
      `INSERT INTO instruments (symbol, currency)
       SELECT s, $2 FROM unnest($1::text[]) AS s ORDER BY s
       ON CONFLICT (symbol) DO NOTHING`,
      [symbols, currency],
    );
  }

  /** Inserts up to INSERT_CHUNK trades in one statement; returns their created_at. */
  async insertChunk(manager: EntityManager, portfolioId: string, userId: string, chunk: NewTrade[]): Promise<Date> {
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

  /** One page (limit + 1 rows) of a portfolio's trades, newest execution first. */
  list(portfolioId: string, filter: TradeFilter, limit: number): Promise<RawTrade[]> {
    const params: unknown[] = [portfolioId, limit + 1];
    const where = ['portfolio_id = $1'];
    if (filter.symbol) where.push(`symbol = $${params.push(filter.symbol)}`);
    if (filter.from) where.push(`executed_at >= $${params.push(filter.from)}`);
    if (filter.to) where.push(`executed_at < $${params.push(filter.to)}`);
    if (filter.before) {
      where.push(
        `(executed_at, seq) < ($${params.push(filter.before.at)}, $${params.push(filter.before.seq)}::bigint)`,
      );
    }
    return this.dataSource.query<RawTrade[]>(
      `SELECT ${COLUMNS}
         FROM trades WHERE ${where.join(' AND ')}
        ORDER BY executed_at DESC, seq DESC
        LIMIT $2`,
      params,
    );
  }
}
