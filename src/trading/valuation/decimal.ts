import Decimal from 'decimal.js';

/**
 * The one Decimal constructor of the trading module: 64 significant digits (quantities and prices
 * are numeric(20,8), so a product of two has at most 40) and banker's rounding, never exponent
 * notation in strings. Money never passes through a binary float.
 */
export const Dec = Decimal.clone({
  precision: 64,
  rounding: Decimal.ROUND_HALF_EVEN,
  toExpNeg: -64,
  toExpPos: 64,
});
export type Dec = Decimal;

export const ZERO: Dec = new Dec(0);

/** Scale kept in maintained state (released cost, split fees): more than shown, so display rounding dominates. */
export const STATE_SCALE = 10;

/** Scale of every figure in API responses. */
export const DISPLAY_SCALE = 8;

/** A plain decimal string (no exponent, no trailing zeros) rounded half-even to `DISPLAY_SCALE` places. */
export function formatDecimal(value: Dec, scale = DISPLAY_SCALE): string {
  const rounded = value.toDecimalPlaces(scale, Decimal.ROUND_HALF_EVEN);
  // toFixed() without an argument keeps the natural scale and never uses exponent notation.
  return rounded.isZero() ? '0' : rounded.toFixed();
}

/** The exact string of a value for storage (`numeric` without scale round-trips it exactly). */
export function storeDecimal(value: Dec): string {
  return value.isZero() ? '0' : value.toFixed();
}
