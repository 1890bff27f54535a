import { computePerformance, type PerformanceTrade, type PricePoint } from '../../../src/reporting/calc/performance';
import { computeRisk, type RiskPosition } from '../../../src/reporting/calc/risk';
import { dailyRiskFree, maxDrawdown, sharpe, sortino } from '../../../src/reporting/calc/stats';
import { Dec } from '../../../src/trading/valuation/decimal';

/**
 * Scenarios computed by hand (figures in the comments); ratios checked to 9 significant digits
 * against the quantstats formulas evaluated independently (Python, float64).
 */
const at = (iso: string): Date => new Date(iso);
const trade = (symbol: string, side: 'buy' | 'sell', quantity: string, price: string, fees: string, when: string) =>
  ({ book: 'P', symbol, side, quantity, price, fees, executedAt: at(when) }) satisfies PerformanceTrade;
const price = (symbol: string, p: string, when: string): PricePoint => ({ symbol, price: p, asOf: at(when) });
const close = (actual: Dec | null, expected: number, digits = 9): void => {
  expect(actual).not.toBeNull();
  expect(Number(actual!.toSignificantDigits(digits))).toBeCloseTo(expected, digits - 2);
};

/**
 * Book P, capital 1000, four days:
 * - 01-05 buy 10 AAA @100 fee 1 (cost 1001); close 102 → unrealised 19; total 19; equity 1019.
 * - 01-06 close 99 → unrealised −11; total −11; equity 989.
 * - 01-07 close 105, then sell 5 @105 fee 1: released 500.5, realised 525 − 500.5 − 1 = 23.5;
 *   5 left cost 500.5, value 525 → unrealised 24.5; total 48; equity 1048.
 * - 01-08 buy 2 BBB @50, price 45, sell 2 @45: realised −10; total 38; equity 1038.
 * Returns 0.019, 989/1019 − 1, 1048/989 − 1, 1038/1048 − 1.
 */
const trades = [
  trade('AAA', 'buy', '10', '100', '1', '2026-01-05T10:00:00Z'),
  trade('AAA', 'sell', '5', '105', '1', '2026-01-07T17:00:00Z'),
  trade('BBB', 'buy', '2', '50', '0', '2026-01-08T10:00:00Z'),
  trade('BBB', 'sell', '2', '45', '0', '2026-01-08T17:00:00Z'),
];
const prices = [
  price('AAA', '102', '2026-01-05T16:00:00Z'),
  price('AAA', '99', '2026-01-06T16:00:00Z'),
  price('AAA', '105', '2026-01-07T16:00:00Z'),
  price('BBB', '45', '2026-01-08T16:00:00Z'),
];
const period = { from: at('2026-01-05T00:00:00Z'), to: at('2026-01-08T23:59:59.999Z') };

describe('Trading Performance', () => {
  const perf = computePerformance({ trades, prices, ...period, riskFreeRate: new Dec(0), capital: new Dec(1000) });

  it('adds up P&L, fees, trades, notional and turnover', () => {
    expect(perf.trades).toBe(4);
    expect(perf.realisedPnl.toString()).toBe('13.5');
    expect(perf.unrealisedPnl.toString()).toBe('24.5');
    expect(perf.totalPnl.toString()).toBe('38');
    expect(perf.fees.toString()).toBe('2');
    // 1000 + 525 + 100 + 90
    expect(perf.tradedNotional.toString()).toBe('1715');
    expect(perf.turnover!.toString()).toBe('1.715');
  });

  it('daily P&L, equity and returns', () => {
    expect(perf.daily.map((d) => [d.date, d.pnl.toString(), d.equity.toString()])).toEqual([
      ['2026-01-05', '19', '1019'],
      ['2026-01-06', '-30', '989'],
      ['2026-01-07', '59', '1048'],
      ['2026-01-08', '-10', '1038'],
    ]);
    expect(perf.daily[0].return.toString()).toBe('0.019');
    close(perf.daily[1].return, 989 / 1019 - 1);
    expect(perf.totalReturn.toString()).toBe('0.038');
  });

  it('win rate, profit factor and payoff ratio over closing trades', () => {
    // Closing trades: +23.5 (AAA), −10 (BBB).
    expect([perf.closingTrades, perf.wins, perf.losses]).toEqual([2, 1, 1]);
    expect(perf.winRate!.toString()).toBe('0.5');
    expect(perf.profitFactor!.toString()).toBe('2.35');
    expect(perf.payoffRatio!.toString()).toBe('2.35');
  });

  it('Sharpe, Sortino and volatility annualised with √252', () => {
    close(perf.sharpe, 4.072506177856135);
    close(perf.sortino, 10.175002342681505);
    close(perf.volatility, 0.6137344042769726);
  });

  it('Sharpe and Sortino with a risk-free rate of 5 % a year', () => {
    const withRf = computePerformance({
      trades,
      prices,
      ...period,
      riskFreeRate: new Dec('0.05'),
      capital: new Dec(1000),
    });
    close(withRf.sharpe, 3.9930012856600308);
    close(withRf.sortino, 9.898276659769657);
  });

  it('maximum drawdown: 1019 → 989 (30, −2.944 %), recovered on 01-07', () => {
    expect(perf.maxDrawdown.value.toString()).toBe('30');
    close(perf.maxDrawdown.ratio, 989 / 1019 - 1);
    expect(perf.maxDrawdown).toMatchObject({
      peakDate: '2026-01-05',
      troughDate: '2026-01-06',
      recoveryDate: '2026-01-07',
    });
  });

  it('breakdowns by symbol and by month', () => {
    expect(
      perf.bySymbol.map((s) => [
        s.symbol,
        s.trades,
        s.tradedNotional.toString(),
        s.fees.toString(),
        s.realisedPnl.toString(),
        s.unrealisedPnl.toString(),
        s.totalPnl.toString(),
      ]),
    ).toEqual([
      ['AAA', 2, '1525', '2', '23.5', '24.5', '48'],
      ['BBB', 2, '190', '0', '-10', '0', '-10'],
    ]);
    expect(perf.byMonth.map((m) => [m.month, m.trades, m.pnl.toString(), m.return.toString()])).toEqual([
      ['2026-01', 4, '38', '0.038'],
    ]);
  });

  it('capital defaults to the largest gross cost basis held (1001 on 01-05)', () => {
    const p = computePerformance({ trades, prices, ...period, riskFreeRate: new Dec(0) });
    expect(p.capital.toString()).toBe('1001');
    expect(p.daily[0].equity.toString()).toBe('1020');
  });

  it('a period starting later keeps earlier trades as its opening state', () => {
    const p = computePerformance({
      trades,
      prices,
      from: at('2026-01-07T00:00:00Z'),
      to: period.to,
      riskFreeRate: new Dec(0),
      capital: new Dec(1000),
    });
    // Total at the start (01-06 close) −11; 01-07 total 48 → +59; 01-08 → −10.
    expect(p.daily.map((d) => d.pnl.toString())).toEqual(['59', '-10']);
    expect(p.trades).toBe(3);
    expect(p.realisedPnl.toString()).toBe('13.5');
    expect(p.totalPnl.toString()).toBe('49');
  });

  it('a day without a price is valued at the last price, else the last trade price', () => {
    const p = computePerformance({
      trades: [trade('CCC', 'buy', '1', '10', '0', '2026-02-02T10:00:00Z')],
      prices: [],
      from: at('2026-02-01T00:00:00Z'),
      to: at('2026-02-03T00:00:00Z'),
      riskFreeRate: new Dec(0),
    });
    expect(p.unrealisedPnl.toString()).toBe('0');
    expect(p.winRate).toBeNull();
    expect(p.profitFactor).toBeNull();
    expect(p.sharpe).toBeNull();
  });
});

describe('return statistics', () => {
  it('daily risk-free rate (1 + rf)^(1/252) − 1', () => {
    close(dailyRiskFree(new Dec('0.05')), 0.00019363050654397362);
    expect(dailyRiskFree(new Dec(0)).toString()).toBe('0');
  });

  it('Sharpe is null without variation; Sortino null without a losing day', () => {
    expect(sharpe([new Dec('0.01'), new Dec('0.01')], new Dec(0))).toBeNull();
    expect(sortino([new Dec('0.01'), new Dec('0.02')], new Dec(0))).toBeNull();
  });

  it('maximum drawdown keeps the deepest fall and an unrecovered one has no recovery date', () => {
    const dd = maxDrawdown(
      [100, 120, 90, 110, 60, 70].map((e, i) => ({ date: `2026-01-0${i + 1}`, equity: new Dec(e) })),
    );
    // Peak 120 (01-02) → 60 (01-05): 60, −50 %.
    expect(dd.value.toString()).toBe('60');
    expect(dd.ratio.toString()).toBe('-0.5');
    expect(dd).toMatchObject({ peakDate: '2026-01-02', troughDate: '2026-01-05', recoveryDate: null });
  });
});

describe('Risk', () => {
  const pos = (symbol: string, quantity: string, mv: string, upnl: string): RiskPosition => ({
    book: 'P',
    symbol,
    quantity: new Dec(quantity),
    marketValue: new Dec(mv),
    unrealisedPnl: new Dec(upnl),
  });
  // A long 600 (−50), B long 300 (+20), C short −100 (−30), D flat.
  const risk = computeRisk([
    pos('A', '6', '600', '-50'),
    pos('B', '3', '300', '20'),
    pos('C', '-1', '-100', '-30'),
    pos('D', '0', '0', '0'),
  ]);

  it('exposure long 900, short 100, gross 1000, net 800', () => {
    expect([risk.long, risk.short, risk.gross, risk.net].map(String)).toEqual(['900', '100', '1000', '800']);
    expect(risk.positions).toBe(3);
  });

  it('Herfindahl .6² + .3² + .1² = 0.46, effective positions 1/0.46', () => {
    expect(risk.herfindahl!.toString()).toBe('0.46');
    close(risk.effectivePositions, 1 / 0.46);
    expect(risk.top.map((p) => [p.symbol, p.weight.toString()])).toEqual([
      ['A', '0.6'],
      ['B', '0.3'],
      ['C', '0.1'],
    ]);
  });

  it('largest losses: A (−50) then C (−30)', () => {
    expect(risk.largestLosses.map((p) => p.symbol)).toEqual(['A', 'C']);
  });

  it('no positions: zero exposure, no concentration', () => {
    const empty = computeRisk([]);
    expect(empty.gross.toString()).toBe('0');
    expect(empty.herfindahl).toBeNull();
  });
});
