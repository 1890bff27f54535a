import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../../security/auth/principal';
import { PortfoliosService, type PortfolioRow } from '../portfolios/portfolios.service';
import { PositionSnapshotsRepository } from './position-snapshots.repository';
import { ReplayGate } from './replay-gate';
import {
  applyTrade,
  EMPTY_POSITION,
  formatValuation,
  portfolioTotals,
  type PositionState,
  replayBySymbol,
  type Side,
  valuePosition,
} from '../valuation/average-cost';
import { Dec, formatDecimal } from '../valuation/decimal';
import type { PortfolioTotalsDto, PositionDto, PositionsDto } from './dto/positions.dto';

interface RawPosition {
  symbol: string;
  quantity: string;
  cost_basis: string;
  realised_pnl: string;
  fees: string;
  trade_count: number;
  last_executed_at: Date;
}

interface RawTrade {
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executed_at: Date;
}

export interface PriceAt {
  price: Dec;
  asOf: Date;
}

export function toState(r: RawPosition): PositionState {
  return {
    quantity: new Dec(r.quantity),
    costBasis: new Dec(r.cost_basis),
    realisedPnl: new Dec(r.realised_pnl),
    fees: new Dec(r.fees),
    tradeCount: Number(r.trade_count),
    lastExecutedAt: r.last_executed_at,
  };
}

/**
 * Valuation of portfolios. Without `asOf` it reads the positions maintained at ingestion and the
 * latest price of each symbol: no history is replayed, however many trades the portfolio holds.
 * With `asOf` it starts each symbol traded since from its latest snapshot before that moment and
 * replays the few trades after it through the pure calculator, with the prices observed up to it.
 */
@Injectable()
export class PositionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly portfolios: PortfoliosService,
    private readonly snapshots: PositionSnapshotsRepository,
  ) {}

  /** At most two as-of replays at once per instance, yielding every 256 trades. */
  private readonly gate = new ReplayGate(2, 256);

  async forPortfolio(principal: Principal, portfolioId: string, asOf?: Date): Promise<PositionsDto> {
    const portfolio = await this.portfolios.requireAccess(principal, portfolioId);
    return this.value(portfolio, asOf);
  }

  async value(portfolio: PortfolioRow, asOf?: Date, manager?: EntityManager): Promise<PositionsDto> {
    let states: Map<string, PositionState>;
    let prices: Map<string, PriceAt>;
    if (asOf) {
      states = await this.asOf(portfolio, asOf, manager);
      prices = await this.pricesAt([...states.keys()], asOf, manager);
    } else {
      ({ states, prices } = await this.maintainedWithPrices(portfolio.id, manager));
    }
    const symbols = [...states.keys()].sort();
    const valuations = symbols.map((symbol) =>
      valuePosition(symbol, states.get(symbol)!, prices.get(symbol)?.price ?? null),
    );
    const positions: PositionDto[] = valuations.map((v) => ({
      symbol: v.symbol,
      ...formatValuation(v),
      priceAsOf: prices.get(v.symbol)?.asOf.toISOString() ?? null,
      tradeCount: v.tradeCount,
    }));
    const t = portfolioTotals(valuations);
    const totals: PortfolioTotalsDto = {
      costBasis: formatDecimal(t.costBasis),
      marketValue: formatDecimal(t.marketValue),
      unrealisedPnl: formatDecimal(t.unrealisedPnl),
      realisedPnl: formatDecimal(t.realisedPnl),
      totalPnl: formatDecimal(t.totalPnl),
      fees: formatDecimal(t.fees),
      openPositions: t.openPositions,
      unpricedSymbols: t.unpricedSymbols,
    };
    return {
      portfolioId: portfolio.id,
      baseCurrency: portfolio.baseCurrency,
      asOf: asOf?.toISOString() ?? null,
      valuedAt: new Date().toISOString(),
      positions,
      totals,
    };
  }

  /** The maintained positions and the latest price of each, in one query. */
  private async maintainedWithPrices(
    portfolioId: string,
    manager?: EntityManager,
  ): Promise<{ states: Map<string, PositionState>; prices: Map<string, PriceAt> }> {
    const rows = await (manager ?? this.dataSource.manager).query<
      (RawPosition & { price: string | null; as_of: Date | null })[]
    >(
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
      states.set(r.symbol, toState(r));
      if (r.price !== null && r.as_of !== null) prices.set(r.symbol, { price: new Dec(r.price), asOf: r.as_of });
    }
    return { states, prices };
  }

  /** The positions maintained at ingestion, by symbol. */
  async maintained(portfolioId: string, manager?: EntityManager): Promise<Map<string, PositionState>> {
    const rows = await (manager ?? this.dataSource.manager).query<RawPosition[]>(
      `SELECT symbol, quantity, cost_basis, realised_pnl, fees, trade_count, last_executed_at
         FROM positions WHERE portfolio_id = $1`,
      [portfolioId],
    );
    return new Map(rows.map((r) => [r.symbol, toState(r)]));
  }

  /**
   * Positions as they stood at `at`. A symbol with no trade after `at` is exactly its maintained
   * position; each other symbol starts from its latest snapshot at or before `at` and replays only
   * the trades after it (fewer than SNAPSHOT_INTERVAL), through the replay gate.
   */
  async asOf(portfolio: PortfolioRow, at: Date, manager?: EntityManager): Promise<Map<string, PositionState>> {
    const maintained = await this.maintained(portfolio.id, manager);
    const result = new Map<string, PositionState>();
    const stale: string[] = [];
    for (const [symbol, state] of maintained) {
      if (state.lastExecutedAt && state.lastExecutedAt <= at) result.set(symbol, state);
      else stale.push(symbol);
    }
    if (stale.length === 0) return result;
    const snapshots = await this.snapshots.latestAtOrBefore(portfolio.id, stale, at, manager);
    const trades = await this.snapshots.tradesAfter(
      portfolio.id,
      stale.map((symbol) => ({ symbol, after: snapshots.get(symbol) })),
      at,
      manager,
    );
    const options = { allowShort: portfolio.allowShort };
    await this.gate.run(async (pause) => {
      for (const symbol of stale) {
        let state = snapshots.get(symbol)?.state ?? EMPTY_POSITION;
        for (const trade of trades.get(symbol) ?? []) {
          state = applyTrade(state, trade, options);
          await pause(1);
        }
        if (state.tradeCount > 0) result.set(symbol, state);
      }
    });
    return result;
  }

  /**
   * Positions recomputed from the trade history (up to `until`, of `symbols` when given), in
   * execution order. What the maintained positions must always equal.
   */
  async replay(
    portfolio: PortfolioRow,
    until?: Date,
    manager?: EntityManager,
    symbols?: string[],
  ): Promise<Map<string, PositionState>> {
    const params: unknown[] = [portfolio.id];
    const where = ['portfolio_id = $1'];
    if (until) where.push(`executed_at <= $${params.push(until)}`);
    if (symbols) where.push(`symbol = ANY($${params.push(symbols)}::text[])`);
    const rows = await (manager ?? this.dataSource.manager).query<RawTrade[]>(
      `SELECT symbol, side, quantity, price, fees, executed_at
         FROM trades
        WHERE ${where.join(' AND ')}
        ORDER BY executed_at, seq`,
      params,
    );
    return replayBySymbol(
      rows.map((r) => ({
        symbol: r.symbol,
        side: r.side,
        quantity: r.quantity,
        price: r.price,
        fees: r.fees,
        executedAt: r.executed_at,
      })),
      { allowShort: portfolio.allowShort },
    );
  }

  /** Per symbol, the latest price observed (at or before `asOf` when given). */
  async pricesAt(symbols: string[], asOf?: Date, manager?: EntityManager): Promise<Map<string, PriceAt>> {
    if (symbols.length === 0) return new Map();
    const rows = await (manager ?? this.dataSource.manager).query<
      { symbol: string; price: string | null; as_of: Date | null }[]
    >(
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
}
