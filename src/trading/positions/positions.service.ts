import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../../security/auth/principal';
import { PortfoliosService, type PortfolioRow } from '../portfolios/portfolios.service';
import { TradesRepository } from '../trades/trades.repository';
import { PositionSnapshotsRepository } from './position-snapshots.repository';
import { mapPosition, PositionsRepository, type PriceAt } from './positions.repository';
import { ReplayGate } from './replay-gate';
import {
  applyTrade,
  EMPTY_POSITION,
  formatValuation,
  portfolioTotals,
  type PositionState,
  replayBySymbol,
  valuePosition,
} from '../valuation/average-cost';
import { formatDecimal } from '../valuation/decimal';
import type { PortfolioTotalsDto, PositionDto, PositionsDto } from './dto/positions.dto';

/** The maintained position of a row (kept under its old name for callers of this module). */
export const toState = mapPosition;

export type { PriceAt } from './positions.repository';

/**
 * Valuation of portfolios. Without `asOf` it reads the positions maintained at ingestion and the
 * latest price of each symbol: no history is replayed, however many trades the portfolio holds.
 * With `asOf` it starts each symbol traded since from its latest snapshot before that moment and
 * replays the few trades after it through the pure calculator, with the prices observed up to it.
 */
@Injectable()
export class PositionsService {
  constructor(
    private readonly portfolios: PortfoliosService,
    private readonly positions: PositionsRepository,
    private readonly snapshots: PositionSnapshotsRepository,
    private readonly trades: TradesRepository,
  ) {}

  /**
   * As-of reads of HTTP callers, whole (queries, replay, valuation): one at a time per instance,
   * the rest queued in order. A burst of them then costs other requests at most one read's slice
   * of the event loop at any moment, not eight reads' worth of row parsing and decimal maths.
   */
  private readonly asOfReads = new ReplayGate(1, 128);

  async forPortfolio(principal: Principal, portfolioId: string, asOf?: Date): Promise<PositionsDto> {
    const portfolio = await this.portfolios.requireAccess(principal, portfolioId);
    if (!asOf) return this.value(portfolio);
    return this.asOfReads.run((pause) => this.value(portfolio, asOf, undefined, pause));
  }

  /**
   * The valuation of a portfolio now, or as of a moment. `pause` (from a ReplayGate) lets an as-of
   * replay give the event loop back; calls inside a transaction (a manager given) pass none, since
   * they must never wait on a gate while holding the connection.
   */
  async value(
    portfolio: PortfolioRow,
    asOf?: Date,
    manager?: EntityManager,
    pause?: (done: number) => Promise<void>,
  ): Promise<PositionsDto> {
    let states: Map<string, PositionState>;
    let prices: Map<string, PriceAt>;
    if (asOf) {
      states = await this.asOf(portfolio, asOf, manager, pause);
      prices = await this.positions.pricesAt([...states.keys()], asOf, manager);
    } else {
      ({ states, prices } = await this.positions.findWithLatestPrices(portfolio.id, manager));
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

  /** The positions maintained at ingestion, by symbol. */
  maintained(portfolioId: string, manager?: EntityManager): Promise<Map<string, PositionState>> {
    return this.positions.find(portfolioId, undefined, manager);
  }

  /**
   * Positions as they stood at `at`. A symbol with no trade after `at` is exactly its maintained
   * position; each other symbol starts from its latest snapshot at or before `at` and replays only
   * the trades after it (fewer than SNAPSHOT_INTERVAL).
   */
  async asOf(
    portfolio: PortfolioRow,
    at: Date,
    manager?: EntityManager,
    pause?: (done: number) => Promise<void>,
  ): Promise<Map<string, PositionState>> {
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
    for (const symbol of stale) {
      let state = snapshots.get(symbol)?.state ?? EMPTY_POSITION;
      const list = trades.get(symbol) ?? [];
      for (const trade of list) state = applyTrade(state, trade, options);
      if (state.tradeCount > 0) result.set(symbol, state);
      if (pause) await pause(list.length);
    }
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
    const rows = await this.trades.inExecutionOrder(portfolio.id, { until, symbols }, manager);
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
  pricesAt(symbols: string[], asOf?: Date, manager?: EntityManager): Promise<Map<string, PriceAt>> {
    return this.positions.pricesAt(symbols, asOf, manager);
  }
}
