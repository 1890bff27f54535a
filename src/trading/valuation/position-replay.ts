import {
  applyTrade,
  type CalculationOptions,
  compareExecution,
  InsufficientPositionError,
  type PositionState,
  type TradeFacts,
} from './average-cost';
import type { Dec } from './decimal';

/**
 * One symbol's position after a request's trades, whether they arrive after its history or in the
 * middle of it. Pure: no Nest, no database, decimals through the average-cost calculator.
 *
 * - In order (every new trade executes at or after the last recorded one): `start` is the
 *   maintained position and `history` is empty; only the new trades are applied.
 * - Out of order: `start` is the empty position (or a snapshot taken before the earliest new
 *   trade) and `history` the recorded trades after it; both lists are merged in execution order
 *   ({@link compareExecution}: time, then recording sequence) and replayed, so the figures are
 *   exactly what they would be had the trades arrived in execution order.
 *
 * The answer is the new state with the snapshots to keep (every `snapshotEvery`-th trade of the
 * symbol, counted from its first trade, at or after the earliest new trade), or the first trade
 * the position cannot take: a new sell larger than what is held then, or a recorded sell that the
 * new trades (inserted before it) leave uncovered, with what was held at that point.
 */
export interface RecordedTrade extends TradeFacts {
  id: string;
  seq: bigint;
}

export interface IncomingTrade extends TradeFacts {
  seq: bigint;
}

/** The state right after the trade at (executedAt, seq). */
export interface ReplayPoint {
  executedAt: Date;
  seq: bigint;
  state: PositionState;
}

export type SymbolReplay<I extends IncomingTrade, R extends RecordedTrade> =
  | { ok: true; state: PositionState; snapshots: ReplayPoint[] }
  | { ok: false; refused: I; held: Dec }
  | { ok: false; uncovered: R; held: Dec };

export interface ReplayInput<I extends IncomingTrade, R extends RecordedTrade> {
  start: PositionState;
  /** Recorded trades after `start`, in execution order. */
  history: readonly R[];
  /** The new trades, in execution order; their seqs follow every recorded one. */
  incoming: readonly I[];
  options: CalculationOptions;
  /** A snapshot after every trade whose count is a multiple of this (0: none). */
  snapshotEvery: number;
}

export function replaySymbol<I extends IncomingTrade, R extends RecordedTrade>(
  input: ReplayInput<I, R>,
): SymbolReplay<I, R> {
  const { history, incoming, options, snapshotEvery } = input;
  const snapshots: ReplayPoint[] = [];
  let state = input.start;
  let h = 0;
  let n = 0;
  let seenNew = false;
  // A linear merge of two lists already in execution order (equal to sorting their union).
  while (h < history.length || n < incoming.length) {
    const takeRecorded = n >= incoming.length || (h < history.length && compareExecution(history[h], incoming[n]) <= 0);
    const trade: I | R = takeRecorded ? history[h++] : incoming[n++];
    if (!takeRecorded) seenNew = true;
    try {
      state = applyTrade(state, trade, options);
    } catch (err) {
      if (!(err instanceof InsufficientPositionError)) throw err;
      return takeRecorded
        ? { ok: false, uncovered: trade as R, held: err.held }
        : { ok: false, refused: trade as I, held: err.held };
    }
    if (seenNew && snapshotEvery > 0 && state.tradeCount % snapshotEvery === 0) {
      snapshots.push({ executedAt: trade.executedAt, seq: trade.seq, state });
    }
  }
  return { ok: true, state, snapshots };
}
