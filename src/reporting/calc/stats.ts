import { Dec } from '../../trading/valuation/decimal';

/**
 * Return statistics with the formulas of quantstats (`quantstats.stats`), in decimals so a re-run
 * gives the same digits. Pure: no Nest, no database.
 */

/** Trading days per year: the annualisation factor of quantstats (`periods=252`). */
export const PERIODS_PER_YEAR = 252;

/** Daily risk-free rate from an annual one, as quantstats' `to_excess_returns`: (1 + rf)^(1/252) − 1. */
export function dailyRiskFree(annual: Dec): Dec {
  if (annual.isZero()) return new Dec(0);
  return annual.plus(1).pow(new Dec(1).dividedBy(PERIODS_PER_YEAR)).minus(1);
}

export function mean(values: Dec[]): Dec | null {
  if (values.length === 0) return null;
  return values.reduce((a, b) => a.plus(b), new Dec(0)).dividedBy(values.length);
}

/** Sample standard deviation (ddof = 1, as pandas' `std()`); null with fewer than 2 values. */
export function stdev(values: Dec[]): Dec | null {
  if (values.length < 2) return null;
  const m = mean(values)!;
  const ss = values.reduce((a, v) => a.plus(v.minus(m).pow(2)), new Dec(0));
  return ss.dividedBy(values.length - 1).sqrt();
}

/**
 * Sharpe ratio: mean(r − rf) / std(r − rf) × √252 (quantstats `sharpe`, ddof 1). Null with fewer
 * than two returns or no variation.
 */
export function sharpe(returns: Dec[], annualRiskFree: Dec): Dec | null {
  const rf = dailyRiskFree(annualRiskFree);
  const excess = returns.map((r) => r.minus(rf));
  const sd = stdev(excess);
  if (!sd || sd.isZero()) return null;
  return mean(excess)!.dividedBy(sd).times(new Dec(PERIODS_PER_YEAR).sqrt());
}

/**
 * Sortino ratio: mean(r − rf) / downside × √252, downside = √(Σ min(r − rf, 0)² / n) over all n
 * returns (quantstats `sortino`). Null without any negative excess return.
 */
export function sortino(returns: Dec[], annualRiskFree: Dec): Dec | null {
  if (returns.length === 0) return null;
  const rf = dailyRiskFree(annualRiskFree);
  const excess = returns.map((r) => r.minus(rf));
  const downside = excess
    .filter((r) => r.isNeg() && !r.isZero())
    .reduce((a, r) => a.plus(r.pow(2)), new Dec(0))
    .dividedBy(excess.length)
    .sqrt();
  if (downside.isZero()) return null;
  return mean(excess)!.dividedBy(downside).times(new Dec(PERIODS_PER_YEAR).sqrt());
}

/** Annualised volatility: std(r) × √252 (quantstats `volatility`). */
export function volatility(returns: Dec[]): Dec | null {
  const sd = stdev(returns);
  return sd ? sd.times(new Dec(PERIODS_PER_YEAR).sqrt()) : null;
}

/** Compounded return of a series: Π(1 + r) − 1 (quantstats `comp`). */
export function compound(returns: Dec[]): Dec {
  return returns.reduce((a, r) => a.times(r.plus(1)), new Dec(1)).minus(1);
}

export interface Drawdown {
  /** Peak equity minus trough equity (money), ≥ 0. */
  value: Dec;
  /** trough / peak − 1 (≤ 0), as quantstats `max_drawdown`; 0 without a drawdown. */
  ratio: Dec;
  peakDate: string | null;
  troughDate: string | null;
  /** First date the equity was back at the peak or above; null if it has not recovered. */
  recoveryDate: string | null;
}

/**
 * Maximum drawdown of an equity curve (dates in order): the largest fall from a running peak
 * (quantstats `max_drawdown` = min(equity / cummax(equity) − 1)), with its money value and dates.
 * Ties keep the first (earliest) worst trough.
 */
export function maxDrawdown(curve: { date: string; equity: Dec }[]): Drawdown {
  const none: Drawdown = { value: new Dec(0), ratio: new Dec(0), peakDate: null, troughDate: null, recoveryDate: null };
  if (curve.length === 0) return none;
  let peak = curve[0];
  let worst = none;
  let worstPeakEquity: Dec | null = null;
  let troughIndex = -1;
  for (const [index, point] of curve.entries()) {
    if (point.equity.gt(peak.equity)) peak = point;
    const ratio = peak.equity.isZero() ? new Dec(0) : point.equity.dividedBy(peak.equity).minus(1);
    if (ratio.lt(worst.ratio)) {
      worst = {
        value: peak.equity.minus(point.equity),
        ratio,
        peakDate: peak.date,
        troughDate: point.date,
        recoveryDate: null,
      };
      worstPeakEquity = peak.equity;
      troughIndex = index;
    }
  }
  if (troughIndex >= 0 && worstPeakEquity) {
    const back = curve.slice(troughIndex + 1).find((p) => p.equity.gte(worstPeakEquity));
    worst.recoveryDate = back?.date ?? null;
  }
  return worst;
}
