import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PositionState } from '../valuation/average-cost';
import { Dec, storeDecimal } from '../valuation/decimal';

export interface RawPosition {
  symbol: string;
  quantity: string;
  cost_basis: string;
  realised_pnl: string;
  fees: string;
  trade_count: number;
  last_executed_at: Date;
}

export interface PriceAt {
  price: Dec;
  asOf: Date;
}

export function mapPosition(r: RawPosition): PositionState {
  return {
    quantity: new Dec(r.quantity),
    costBasis: new Dec(r.cost_basis),
    realisedPnl: new Dec(r.realised_pnl),
    fees: new Dec(r.fees),
    tradeCount: Number(r.trade_count),
    lastExecutedAt: r.last_executed_at,
  };
}

const COLUMNS = 'symbol, quantity, cost_basis, realised_pnl, fees, trade_count, last_executed_at';

/**
 * Every statement on `positions` (maintained at ingestion) and the price look-ups that value them.
 */
@Injectable()
export class PositionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** The maintained positions of the portfolio (of `symbols` when given), by symbol. */
  async find(portfolioId: string, symbols?: string[], manager?: EntityManager): Promise<Map<string, PositionState>> {
    const rows = await this.m(manager).query<RawPosition[]>(
      symbols
        ? `SELECT ${COLUMNS} FROM positions WHERE portfolio_id = $1 AND symbol = ANY($2::text[])`
        : `SELECT ${COLUMNS} FROM positions WHERE portfolio_id = $1`,
      symbols ? [portfolioId, symbols] : [portfolioId],
    );
    return new Map(rows.map((r) => [r.symbol, mapPosition(r)]));
  }

  /** The maintained positions and the latest price of each, in one query. */
  async findWithLatestPrices(
    portfolioId: string,
    manager?: EntityManager,
  ): Promise<{ states: Map<string, PositionState>; prices: Map<string, PriceAt> }> {
    const rows = await this.m(manager).query<(RawPosition & { price: string | null; as_of: Date | null })[]>(
      `SELECT pos.symbol, pos.quantity, pos.cost_basis, pos.realised_pnl, pos.fees, pos.trade_count,
              pos.last_executed_at, pr.price, pr.as_of
         FROM positions pos
         LEFT JOIN LATERAL (
           SELECT price, as_of FROM prices WHERE prices.symbol = pos.symbol ORDER BY as_of DESC LIMIT 1
         ) pr ON true
        WHERE pos.portfolio_id = $1`,
      [portfolioId],
    );
    const states = new Map<string, PositionState>();
    const prices = new Map<string, PriceAt>();
    for (const r of rows) {
      states.set(r.symbol, mapPosition(r));
      if (r.price !== null && r.as_of !== null) prices.set(r.symbol, { price: new Dec(r.price), asOf: r.as_of });
    }
    return { states, prices };
  }

  /** Per symbol, the latest price observed (at or before `asOf` when given). */
  async pricesAt(symbols: string[], asOf?: Date, manager?: EntityManager): Promise<Map<string, PriceAt>> {
    if (symbols.length === 0) return new Map();
    const rows = await this.m(manager).query<{ symbol: string; price: string | null; as_of: Date | null }[]>(
      `SELECT s.symbol, p.price, p.as_of
         FROM unnest($1::text[]) AS s(symbol)
         LEFT JOIN LATERAL (
           SELECT price, as_of FROM prices
            WHERE prices.symbol = s.symbol ${asOf ? 'AND as_of <= $2' : ''}
            ORDER BY as_of DESC LIMIT 1
         ) p ON true`,
      asOf ? [symbols, asOf] : [symbols],
    );
    const prices = new Map<string, PriceAt>();
    for (const r of rows) {
      if (r.price !== null && r.as_of !== null) prices.set(r.symbol, { price: new Dec(r.price), asOf: r.as_of });
    }
    return prices;
  }

  /**
   * Upserts positions, one statement for the whole request, and moves the portfolio's trade seq on
   * in the same statement (the portfolio row is already locked by the ingestion transaction).
   */
  async save(
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
}
