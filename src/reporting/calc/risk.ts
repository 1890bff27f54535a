import { Dec } from '../../trading/valuation/decimal';

/**
 * Risk of a set of positions at one moment. Pure; decimals. Exposure is market value: long =
 * Σ of positive market values, short = Σ |negative market values|, gross = long + short,
 * net = long − short. Weights are |market value| / gross; the Herfindahl–Hirschman index is
 * Σ weight² (1/n for n equal positions, 1 for one), and its inverse the effective number of
 * positions. Largest losses are the open positions with the most negative unrealised P&L.
 */
export interface RiskPosition {
  book: string;
  symbol: string;
  quantity: Dec;
  marketValue: Dec;
  unrealisedPnl: Dec;
}

export interface Risk {
  long: Dec;
  short: Dec;
  gross: Dec;
  net: Dec;
  positions: number;
  herfindahl: Dec | null;
  effectivePositions: Dec | null;
  top: (RiskPosition & { weight: Dec })[];
  largestLosses: RiskPosition[];
}

export function computeRisk(positions: RiskPosition[], topN = 10): Risk {
  const open = positions.filter((p) => !p.quantity.isZero());
  let long = new Dec(0);
  let short = new Dec(0);
  for (const p of open) {
    if (p.marketValue.gt(0)) long = long.plus(p.marketValue);
    else short = short.plus(p.marketValue.abs());
  }
  const gross = long.plus(short);
  const weighted = open.map((p) => ({
    ...p,
    weight: gross.isZero() ? new Dec(0) : p.marketValue.abs().dividedBy(gross),
  }));
  const herfindahl = gross.isZero() ? null : weighted.reduce((a, p) => a.plus(p.weight.pow(2)), new Dec(0));
  const byKey = (a: RiskPosition, b: RiskPosition): number =>
    a.symbol.localeCompare(b.symbol) || a.book.localeCompare(b.book);
  return {
    long,
    short,
    gross,
    net: long.minus(short),
    positions: open.length,
    herfindahl,
    effectivePositions: herfindahl && !herfindahl.isZero() ? new Dec(1).dividedBy(herfindahl) : null,
    top: [...weighted]
      .sort((a, b) => b.marketValue.abs().comparedTo(a.marketValue.abs()) || byKey(a, b))
      .slice(0, topN),
    largestLosses: open
      .filter((p) => p.unrealisedPnl.lt(0))
      .sort((a, b) => a.unrealisedPnl.comparedTo(b.unrealisedPnl) || byKey(a, b))
      .slice(0, topN),
  };
}
