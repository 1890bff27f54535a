import Decimal from 'decimal.js';
import { Dec, formatDecimal, STATE_SCALE, ZERO } from './decimal';

/**
 * Positions and P&L by the average-cost method. Pure: no Nest, no database, decimals only.
 *
 * State of one position (per portfolio and symbol), all signed:
 * - `quantity`: positive long, negative short, zero flat;
 * - `costBasis`: what the open quantity cost, fees included; negative for a short (the net
 *   proceeds of opening it), so `costBasis / quantity` is the average cost either way;
 * - `realisedPnl`: profit taken on closed quantity, net of every fee;
 * - `fees`: every fee paid on the symbol (information; already inside costBasis or realisedPnl).
 *
 * A trade of signed quantity `d` (+q buy, -q sell) at price `p` with fees `f`:
 * - opening or adding (same direction as the position, or from flat): `costBasis += d*p + f`.
 *   Buy fees raise the cost basis; fees of a sell that opens a short lower its net proceeds.
 * - reducing (opposite direction): the closed quantity `c = min(q, |quantity|)` releases
 *   `released = costBasis * c / |quantity|` (rounded half-even to STATE_SCALE places; closing the
 *   whole position releases the whole basis, so no residue is left), and
 *   `realisedPnl += -(sign(d) * c * p) - released - f`. For a long that is
 *   `(sell price - average cost) * c - fees`; for a short, `(average entry - buy price) * c - fees`.
 * - a trade larger than the position closes it and opens the other side with the rest (allowed
 *   only with `allowShort` when that side is short); its fees are split pro rata to the quantities
 *   (the closing part's share rounded to STATE_SCALE places, the rest to the opening part).
 *
 * Without `allowShort`, a sell larger than the long quantity throws {@link InsufficientPositionError}.
 */
export type Side = 'buy' | 'sell';

export interface TradeFacts {
  side: Side;
  /** > 0, decimal string or Decimal. */
  quantity: Decimal.Value;
  /** >= 0. */
  price: Decimal.Value;
  /** >= 0. */
  fees: Decimal.Value;
  executedAt: Date;
}

export interface PositionState {
  quantity: Dec;
  costBasis: Dec;
  realisedPnl: Dec;
  fees: Dec;
  tradeCount: number;
  /** executedAt of the latest trade applied; null before any. */
  lastExecutedAt: Date | null;
}

export interface CalculationOptions {
  allowShort: boolean;
}

export const EMPTY_POSITION: PositionState = Object.freeze({
  quantity: ZERO,
  costBasis: ZERO,
  realisedPnl: ZERO,
  fees: ZERO,
  tradeCount: 0,
  lastExecutedAt: null,
});

/** A sell for more than is held, in a portfolio that does not allow short positions. */
export class InsufficientPositionError extends Error {
  constructor(
    readonly trade: TradeFacts,
    readonly held: Dec,
  ) {
    super(`selling ${new Dec(trade.quantity).toFixed()} but only ${held.toFixed()} is held`);
    this.name = 'InsufficientPositionError';
  }
}

/** A trade the calculator cannot take (the API validates these before they get here). */
export class InvalidTradeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTradeError';
  }
}

const round = (d: Dec): Dec => d.toDecimalPlaces(STATE_SCALE, Decimal.ROUND_HALF_EVEN);

/** The position after one more trade. Trades must be applied in execution order. */
export function applyTrade(state: PositionState, trade: TradeFacts, options: CalculationOptions): PositionState {
  const q = new Dec(trade.quantity);
  const p = new Dec(trade.price);
  const f = new Dec(trade.fees);
  if (!q.isFinite() || q.lte(0)) throw new InvalidTradeError('quantity must be greater than 0');
  if (!p.isFinite() || p.lt(0)) throw new InvalidTradeError('price must be 0 or more');
  if (!f.isFinite() || f.lt(0)) throw new InvalidTradeError('fees must be 0 or more');

  const direction = trade.side === 'buy' ? 1 : -1;
  const held = state.quantity;
  let quantity = held;
  let costBasis = state.costBasis;
  let realisedPnl = state.realisedPnl;

  let openQty = q;
  let openFees = f;
  const reducing = !held.isZero() && held.s !== direction;
  if (reducing) {
    const heldAbs = held.abs();
    const closeQty = Dec.min(q, heldAbs);
    const remainder = q.minus(closeQty);
    if (remainder.gt(0) && direction < 0 && !options.allowShort) throw new InsufficientPositionError(trade, held);
    const closeFees = remainder.isZero() ? f : round(f.times(closeQty).dividedBy(q));
    const released = closeQty.eq(heldAbs) ? costBasis : round(costBasis.times(closeQty).dividedBy(heldAbs));
    realisedPnl = realisedPnl.minus(closeQty.times(p).times(direction)).minus(released).minus(closeFees);
    costBasis = costBasis.minus(released);
    quantity = quantity.plus(closeQty.times(direction));
    openQty = remainder;
    openFees = f.minus(closeFees);
  } else if (direction < 0 && !options.allowShort) {
    throw new InsufficientPositionError(trade, held);
  }

  if (openQty.gt(0)) {
    costBasis = costBasis.plus(openQty.times(p).times(direction)).plus(openFees);
    quantity = quantity.plus(openQty.times(direction));
  }
  if (quantity.isZero()) costBasis = new Dec(0);

  return {
    quantity,
    costBasis,
    realisedPnl,
    fees: state.fees.plus(f),
    tradeCount: state.tradeCount + 1,
    lastExecutedAt:
      state.lastExecutedAt && state.lastExecutedAt > trade.executedAt ? state.lastExecutedAt : trade.executedAt,
  };
}

/**
 * Replays trades of one symbol, already in execution order, from `start`. `onError` lets a caller
 * name the offending trade (its index in a request, its id in the database).
 */
export function replay<T extends TradeFacts>(
  trades: Iterable<T>,
  options: CalculationOptions,
  start: PositionState = EMPTY_POSITION,
): PositionState {
  let state = start;
  for (const trade of trades) state = applyTrade(state, trade, options);
  return state;
}

/** Execution order: by executedAt, then by a tie-breaker (the order trades were recorded). */
export function compareExecution(
  a: { executedAt: Date; seq: bigint | number },
  b: { executedAt: Date; seq: bigint | number },
): number {
  const dt = a.executedAt.getTime() - b.executedAt.getTime();
  if (dt !== 0) return dt;
  return a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

/**
 * Positions of a whole portfolio from its trade history, up to and including `until` when given.
 * Trades must be in execution order (as {@link compareExecution} sorts them).
 */
export function replayBySymbol<T extends TradeFacts & { symbol: string }>(
  trades: Iterable<T>,
  options: CalculationOptions & { until?: Date },
): Map<string, PositionState> {
  const positions = new Map<string, PositionState>();
  for (const trade of trades) {
    if (options.until && trade.executedAt > options.until) continue;
    positions.set(trade.symbol, applyTrade(positions.get(trade.symbol) ?? EMPTY_POSITION, trade, options));
  }
  return positions;
}

/** A position valued at a price (null: no price known). */
export interface PositionValuation {
  symbol: string;
  quantity: Dec;
  /** costBasis / quantity; null when flat. */
  averageCost: Dec | null;
  costBasis: Dec;
  price: Dec | null;
  marketValue: Dec | null;
  unrealisedPnl: Dec | null;
  realisedPnl: Dec;
  fees: Dec;
  tradeCount: number;
}

export function valuePosition(symbol: string, state: PositionState, price: Dec | null): PositionValuation {
  const flat = state.quantity.isZero();
  const marketValue = flat ? new Dec(0) : price ? state.quantity.times(price) : null;
  return {
    symbol,
    quantity: state.quantity,
    averageCost: flat ? null : state.costBasis.dividedBy(state.quantity),
    costBasis: state.costBasis,
    price,
    marketValue,
    unrealisedPnl: marketValue === null ? null : marketValue.minus(state.costBasis),
    realisedPnl: state.realisedPnl,
    fees: state.fees,
    tradeCount: state.tradeCount,
  };
}

export interface PortfolioTotals {
  costBasis: Dec;
  /** Sum over priced positions (flat ones count 0). */
  marketValue: Dec;
  unrealisedPnl: Dec;
  realisedPnl: Dec;
  /** realised + unrealised. */
  totalPnl: Dec;
  fees: Dec;
  openPositions: number;
  /** Open positions without a price: left out of marketValue and unrealisedPnl. */
  unpricedSymbols: string[];
}

export function portfolioTotals(positions: PositionValuation[]): PortfolioTotals {
  let costBasis = new Dec(0);
  let marketValue = new Dec(0);
  let unrealisedPnl = new Dec(0);
  let realisedPnl = new Dec(0);
  let fees = new Dec(0);
  let openPositions = 0;
  const unpricedSymbols: string[] = [];
  for (const p of positions) {
    costBasis = costBasis.plus(p.costBasis);
    realisedPnl = realisedPnl.plus(p.realisedPnl);
    fees = fees.plus(p.fees);
    if (!p.quantity.isZero()) openPositions += 1;
    if (p.marketValue === null || p.unrealisedPnl === null) {
      unpricedSymbols.push(p.symbol);
      continue;
    }
    marketValue = marketValue.plus(p.marketValue);
    unrealisedPnl = unrealisedPnl.plus(p.unrealisedPnl);
  }
  return {
    costBasis,
    marketValue,
    unrealisedPnl,
    realisedPnl,
    totalPnl: realisedPnl.plus(unrealisedPnl),
    fees,
    openPositions,
    unpricedSymbols: unpricedSymbols.sort(),
  };
}

/** Decimal fields of a valuation as API strings (half-even, DISPLAY_SCALE places). */
export function formatValuation(v: PositionValuation): Record<
  'quantity' | 'costBasis' | 'realisedPnl' | 'fees',
  string
> & {
  averageCost: string | null;
  price: string | null;
  marketValue: string | null;
  unrealisedPnl: string | null;
} {
  const opt = (d: Dec | null): string | null => (d === null ? null : formatDecimal(d));
  return {
    quantity: formatDecimal(v.quantity),
    averageCost: opt(v.averageCost),
    costBasis: formatDecimal(v.costBasis),
    price: opt(v.price),
    marketValue: opt(v.marketValue),
    unrealisedPnl: opt(v.unrealisedPnl),
    realisedPnl: formatDecimal(v.realisedPnl),
    fees: formatDecimal(v.fees),
  };
}
