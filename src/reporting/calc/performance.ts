import { applyTrade, EMPTY_POSITION, type PositionState, type Side } from '../../trading/valuation/average-cost';
import { Dec } from '../../trading/valuation/decimal';
import { compound, type Drawdown, maxDrawdown, sharpe, sortino, volatility } from './stats';

/**
 * Trading Performance of one or more books (portfolios) over a period. Pure: no Nest, no
 * database; decimals throughout. Conventions (also in the README, "Reports"):
 *
 * - Positions follow the trading module's average-cost calculator (`applyTrade`), per book and
 *   symbol, from the first trade ever recorded, so the period starts from the true state.
 * - Marks: a symbol is valued at the latest price observed up to the moment, else at the price of
 *   its latest trade (so a day without prices carries the last known value).
 * - Total P&L at a moment = realised P&L (cumulative) + Σ (market value − cost basis). Fees are
 *   inside both (average-cost method).
 * - Days: the UTC dates in the period on which a trade was executed or a price observed for a
 *   symbol the books trade. Each day is valued at its end (or at `to`, for the last one).
 * - Equity = capital + total P&L since `from`; daily return = equity / previous equity − 1.
 *   `capital` defaults to the largest gross cost basis Σ|cost basis| held at the start or at any
 *   day end in the period (the capital the strategy employed).
 * - A *closing trade* is one that reduces a position; its result is the realised P&L it booked,
 *   net of its fees. A win is a result > 0, a loss < 0; zero results count as neither.
 */
export interface PerformanceTrade {
  /** Portfolio id: positions are kept per book and symbol. */
  book: string;
  symbol: string;
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executedAt: Date;
}

export interface PricePoint {
  symbol: string;
  price: string;
  asOf: Date;
}

export interface PerformanceInput {
  /** Every trade of the books executed up to `to`, in execution order. */
  trades: PerformanceTrade[];
  /** Prices of their symbols observed up to `to`, any order. */
  prices: PricePoint[];
  from: Date;
  to: Date;
  /** Annual risk-free rate as a fraction (0.02 = 2 %). */
  riskFreeRate: Dec;
  capital?: Dec | null;
  /** Books that may go short. */
  allowShort?: (book: string) => boolean;
}

export interface DailyReturn {
  date: string;
  pnl: Dec;
  equity: Dec;
  return: Dec;
}

export interface SymbolBreakdown {
  symbol: string;
  trades: number;
  tradedNotional: Dec;
  fees: Dec;
  realisedPnl: Dec;
  unrealisedPnl: Dec;
  totalPnl: Dec;
}

export interface MonthBreakdown {
  month: string;
  trades: number;
  fees: Dec;
  realisedPnl: Dec;
  pnl: Dec;
  return: Dec;
}

export interface Performance {
  trades: number;
  tradedNotional: Dec;
  fees: Dec;
  realisedPnl: Dec;
  /** At `to`: Σ (market value − cost basis) of open positions. */
  unrealisedPnl: Dec;
  /** Change of total P&L over the period. */
  totalPnl: Dec;
  capital: Dec;
  closingTrades: number;
  wins: number;
  losses: number;
  grossProfit: Dec;
  grossLoss: Dec;
  winRate: Dec | null;
  profitFactor: Dec | null;
  payoffRatio: Dec | null;
  totalReturn: Dec;
  volatility: Dec | null;
  sharpe: Dec | null;
  sortino: Dec | null;
  maxDrawdown: Drawdown;
  turnover: Dec | null;
  daily: DailyReturn[];
  bySymbol: SymbolBreakdown[];
  byMonth: MonthBreakdown[];
}

const dayOf = (d: Date): string => d.toISOString().slice(0, 10);
const endOfDay = (day: string): Date => new Date(`${day}T23:59:59.999Z`);

class Ledger {
  readonly positions = new Map<string, { book: string; symbol: string; state: PositionState }>();
  private readonly lastPrice = new Map<string, Dec>();
  private readonly lastTradePrice = new Map<string, Dec>();

  constructor(private readonly allowShort: (book: string) => boolean) {}

  apply(t: PerformanceTrade): { before: PositionState; after: PositionState } {
    const key = `${t.book}\u0000${t.symbol}`;
    const entry = this.positions.get(key) ?? { book: t.book, symbol: t.symbol, state: EMPTY_POSITION };
    const before = entry.state;
    const after = applyTrade(before, t, { allowShort: this.allowShort(t.book) });
    this.positions.set(key, { ...entry, state: after });
    this.lastTradePrice.set(t.symbol, new Dec(t.price));
    return { before, after };
  }

  observe(p: PricePoint): void {
    this.lastPrice.set(p.symbol, new Dec(p.price));
  }

  mark(symbol: string): Dec {
    return this.lastPrice.get(symbol) ?? this.lastTradePrice.get(symbol) ?? new Dec(0);
  }

  /** Total P&L (realised + unrealised), optionally per symbol, and gross cost basis. */
  totals(): { total: Dec; bySymbol: Map<string, { realised: Dec; unrealised: Dec }>; grossCost: Dec } {
    let total = new Dec(0);
    let grossCost = new Dec(0);
    const bySymbol = new Map<string, { realised: Dec; unrealised: Dec }>();
    for (const { symbol, state } of this.positions.values()) {
      const unrealised = state.quantity.isZero()
        ? new Dec(0)
        : state.quantity.times(this.mark(symbol)).minus(state.costBasis);
      total = total.plus(state.realisedPnl).plus(unrealised);
      grossCost = grossCost.plus(state.costBasis.abs());
      const s = bySymbol.get(symbol) ?? { realised: new Dec(0), unrealised: new Dec(0) };
      bySymbol.set(symbol, { realised: s.realised.plus(state.realisedPnl), unrealised: s.unrealised.plus(unrealised) });
    }
    return { total, bySymbol, grossCost };
  }
}

export function computePerformance(input: PerformanceInput): Performance {
  const ledger = new Ledger(input.allowShort ?? (() => false));
  const trades = input.trades.filter((t) => t.executedAt <= input.to);
  const prices = input.prices.filter((p) => p.asOf <= input.to).sort((a, b) => a.asOf.getTime() - b.asOf.getTime());
  const traded = new Set(trades.map((t) => t.symbol));

  // Events in time order; at equal times prices first (a trade at the close sees that close).
  type Event = { at: Date; trade?: PerformanceTrade; price?: PricePoint };
  const events: Event[] = [
    ...prices.filter((p) => traded.has(p.symbol)).map((p) => ({ at: p.asOf, price: p })),
    ...trades.map((t) => ({ at: t.executedAt, trade: t })),
  ];
  events.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.price ? -1 : 0) - (b.price ? -1 : 0));

  let i = 0;
  // State at the start of the period.
  while (i < events.length && events[i].at < input.from) {
    const e = events[i++];
    if (e.trade) ledger.apply(e.trade);
    else ledger.observe(e.price!);
  }
  const start = ledger.totals();
  let grossCostPeak = start.grossCost;

  const days = [...new Set(events.slice(i).map((e) => dayOf(e.at)))].sort();
  const perSymbol = new Map<string, SymbolBreakdown>();
  const symbolRow = (symbol: string): SymbolBreakdown => {
    let row = perSymbol.get(symbol);
    if (!row) {
      row = {
        symbol,
        trades: 0,
        tradedNotional: new Dec(0),
        fees: new Dec(0),
        realisedPnl: new Dec(0),
        unrealisedPnl: new Dec(0),
        totalPnl: new Dec(0),
      };
      perSymbol.set(symbol, row);
    }
    return row;
  };
  const monthTrades = new Map<string, { trades: number; fees: Dec; realised: Dec }>();
  let fees = new Dec(0);
  let notional = new Dec(0);
  let realised = new Dec(0);
  const results: Dec[] = [];
  const dayTotals: { date: string; total: Dec }[] = [];

  for (const day of days) {
    const close = new Date(Math.min(endOfDay(day).getTime(), input.to.getTime()));
    while (i < events.length && events[i].at <= close) {
      const e = events[i++];
      if (!e.trade) {
        ledger.observe(e.price!);
        continue;
      }
      const t = e.trade;
      const { before, after } = ledger.apply(t);
      const delta = after.realisedPnl.minus(before.realisedPnl);
      const tradeNotional = new Dec(t.quantity).times(t.price);
      const tradeFees = new Dec(t.fees);
      fees = fees.plus(tradeFees);
      notional = notional.plus(tradeNotional);
      realised = realised.plus(delta);
      const reducing = !before.quantity.isZero() && before.quantity.s !== (t.side === 'buy' ? 1 : -1);
      if (reducing) results.push(delta);
      const row = symbolRow(t.symbol);
      row.trades += 1;
      row.tradedNotional = row.tradedNotional.plus(tradeNotional);
      row.fees = row.fees.plus(tradeFees);
      row.realisedPnl = row.realisedPnl.plus(delta);
      const month = day.slice(0, 7);
      const m = monthTrades.get(month) ?? { trades: 0, fees: new Dec(0), realised: new Dec(0) };
      monthTrades.set(month, { trades: m.trades + 1, fees: m.fees.plus(tradeFees), realised: m.realised.plus(delta) });
    }
    const totals = ledger.totals();
    if (totals.grossCost.gt(grossCostPeak)) grossCostPeak = totals.grossCost;
    dayTotals.push({ date: day, total: totals.total });
  }
  const end = ledger.totals();

  const capital = input.capital && input.capital.gt(0) ? input.capital : grossCostPeak;
  const daily: DailyReturn[] = [];
  let prevTotal = start.total;
  let prevEquity = capital;
  for (const { date, total } of dayTotals) {
    const equity = capital.plus(total.minus(start.total));
    const ret = prevEquity.isZero() ? new Dec(0) : equity.dividedBy(prevEquity).minus(1);
    daily.push({ date, pnl: total.minus(prevTotal), equity, return: ret });
    prevTotal = total;
    prevEquity = equity;
  }
  const returns = daily.map((d) => d.return);

  for (const [symbol, s] of end.bySymbol) {
    const before = start.bySymbol.get(symbol) ?? { realised: new Dec(0), unrealised: new Dec(0) };
    const row = symbolRow(symbol);
    row.unrealisedPnl = s.unrealised;
    row.totalPnl = s.realised.plus(s.unrealised).minus(before.realised.plus(before.unrealised));
  }

  const months = [...new Set([...daily.map((d) => d.date.slice(0, 7)), ...monthTrades.keys()])].sort();
  const byMonth: MonthBreakdown[] = months.map((month) => {
    const inMonth = daily.filter((d) => d.date.startsWith(month));
    const m = monthTrades.get(month) ?? { trades: 0, fees: new Dec(0), realised: new Dec(0) };
    return {
      month,
      trades: m.trades,
      fees: m.fees,
      realisedPnl: m.realised,
      pnl: inMonth.reduce((a, d) => a.plus(d.pnl), new Dec(0)),
      return: compound(inMonth.map((d) => d.return)),
    };
  });

  const winners = results.filter((r) => r.gt(0));
  const losers = results.filter((r) => r.lt(0));
  const grossProfit = winners.reduce((a, r) => a.plus(r), new Dec(0));
  const grossLoss = losers.reduce((a, r) => a.plus(r), new Dec(0));
  const decided = winners.length + losers.length;
  let unrealised = new Dec(0);
  for (const s of end.bySymbol.values()) unrealised = unrealised.plus(s.unrealised);

  // The curve starts at the close of the day before the period.
  const curve = [
    { date: dayOf(new Date(input.from.getTime() - 1)), equity: capital },
    ...daily.map((d) => ({ date: d.date, equity: d.equity })),
  ];
  return {
    trades: [...perSymbol.values()].reduce((a, r) => a + r.trades, 0),
    tradedNotional: notional,
    fees,
    realisedPnl: realised,
    unrealisedPnl: unrealised,
    totalPnl: end.total.minus(start.total),
    capital,
    closingTrades: results.length,
    wins: winners.length,
    losses: losers.length,
    grossProfit,
    grossLoss,
    winRate: decided === 0 ? null : new Dec(winners.length).dividedBy(decided),
    profitFactor: grossLoss.isZero() ? null : grossProfit.dividedBy(grossLoss.abs()),
    payoffRatio:
      winners.length === 0 || losers.length === 0
        ? null
        : grossProfit.dividedBy(winners.length).dividedBy(grossLoss.abs().dividedBy(losers.length)),
    totalReturn: compound(returns),
    volatility: volatility(returns),
    sharpe: sharpe(returns, input.riskFreeRate),
    sortino: sortino(returns, input.riskFreeRate),
    maxDrawdown: maxDrawdown(curve),
    turnover: capital.isZero() ? null : notional.dividedBy(capital),
    daily,
    bySymbol: [...perSymbol.values()].sort((a, b) => a.symbol.localeCompare(b.symbol)),
    byMonth,
  };
}
