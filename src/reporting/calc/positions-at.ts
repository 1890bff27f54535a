import {
  applyTrade,
  EMPTY_POSITION,
  type PositionState,
  type PositionValuation,
  valuePosition,
} from '../../trading/valuation/average-cost';
import { Dec } from '../../trading/valuation/decimal';
import type { PerformanceTrade, PricePoint } from './performance';

export interface BookPosition extends PositionValuation {
  book: string;
}

/**
 * Positions per book and symbol after the given trades (execution order), valued at the latest
 * of the given prices (null when a symbol has none, as in the trading module). Pure.
 */
export function positionsAt(
  trades: PerformanceTrade[],
  prices: PricePoint[],
  allowShort: (book: string) => boolean,
): BookPosition[] {
  const states = new Map<string, { book: string; symbol: string; state: PositionState }>();
  for (const t of trades) {
    const key = `${t.book}\u0000${t.symbol}`;
    const entry = states.get(key) ?? { book: t.book, symbol: t.symbol, state: EMPTY_POSITION };
    states.set(key, { ...entry, state: applyTrade(entry.state, t, { allowShort: allowShort(t.book) }) });
  }
  const latest = new Map<string, { price: Dec; asOf: Date }>();
  for (const p of prices) {
    const seen = latest.get(p.symbol);
    if (!seen || p.asOf >= seen.asOf) latest.set(p.symbol, { price: new Dec(p.price), asOf: p.asOf });
  }
  return [...states.values()]
    .map(({ book, symbol, state }) => ({ book, ...valuePosition(symbol, state, latest.get(symbol)?.price ?? null) }))
    .sort((a, b) => a.book.localeCompare(b.book) || a.symbol.localeCompare(b.symbol));
}
