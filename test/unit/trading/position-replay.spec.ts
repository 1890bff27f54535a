import { EMPTY_POSITION, replay, type Side } from '../../../src/trading/valuation/average-cost';
import { formatDecimal } from '../../../src/trading/valuation/decimal';
import {
  type IncomingTrade,
  type RecordedTrade,
  replaySymbol,
  type SymbolReplay,
} from '../../../src/trading/valuation/position-replay';

/**
 * The out-of-order replay, scenario by scenario with figures computed by hand (in the comments):
 * history + incoming trades -> the new position and its snapshots, or the first trade refused with
 * what was held then.
 */
const LONG = { allowShort: false };
const SHORT = { allowShort: true };
const at = (minute: number): Date => new Date(Date.UTC(2026, 2, 2, 9, 0) + minute * 60_000);

let seq = 0n;
const recorded = (minute: number, side: Side, quantity: string, price: string, fees = '0'): RecordedTrade => {
  seq += 1n;
  return { id: `r${seq}`, seq, side, quantity, price, fees, executedAt: at(minute) };
};
type New = IncomingTrade & { index: number };
const incoming = (index: number, minute: number, side: Side, quantity: string, price: string, fees = '0'): New => {
  seq += 1n;
  return { index, seq, side, quantity, price, fees, executedAt: at(minute) };
};

function figures(r: SymbolReplay<New, RecordedTrade>) {
  if (!r.ok) throw new Error('expected the replay to succeed');
  return {
    quantity: formatDecimal(r.state.quantity),
    costBasis: formatDecimal(r.state.costBasis),
    realisedPnl: formatDecimal(r.state.realisedPnl),
    fees: formatDecimal(r.state.fees),
    tradeCount: r.state.tradeCount,
    lastExecutedAt: r.state.lastExecutedAt?.toISOString(),
  };
}

describe('position replay (history + incoming trades)', () => {
  beforeEach(() => {
    seq = 0n;
  });

  it('1. in order: starts from the maintained position and applies only the new trades', () => {
    // held: 10 @ 100 (basis 1000). New: buy 10 @ 130 -> 20 for 2300; sell 5 @ 150 releases 575,
    // realised 750 - 575 = 175, basis 1725, quantity 15.
    const start = replay([recorded(0, 'buy', '10', '100')], LONG);
    const r = replaySymbol({
      start,
      history: [],
      incoming: [incoming(0, 10, 'buy', '10', '130'), incoming(1, 11, 'sell', '5', '150')],
      options: LONG,
      snapshotEvery: 0,
    });
    expect(figures(r)).toEqual({
      quantity: '15',
      costBasis: '1725',
      realisedPnl: '175',
      fees: '0',
      tradeCount: 3,
      lastExecutedAt: at(11).toISOString(),
    });
  });

  it('2. a back-dated buy is merged before the recorded sell it precedes, with exact figures', () => {
    // Recorded: buy 10 @ 100 (t=0), sell 10 @ 120 (t=20): realised 200, flat.
    // New buy 10 @ 80 at t=10: before the sell the position is 20 for 1800 (average 90); the sell
    // of 10 @ 120 releases 900: realised 1200 - 900 = 300; 10 left for 900.
    const history = [recorded(0, 'buy', '10', '100'), recorded(20, 'sell', '10', '120')];
    const r = replaySymbol({
      start: EMPTY_POSITION,
      history,
      incoming: [incoming(0, 10, 'buy', '10', '80')],
      options: LONG,
      snapshotEvery: 0,
    });
    expect(figures(r)).toEqual({
      quantity: '10',
      costBasis: '900',
      realisedPnl: '300',
      fees: '0',
      tradeCount: 3,
      lastExecutedAt: at(20).toISOString(),
    });
  });

  it('3. equals replaying the union sorted by execution (time, then recording sequence)', () => {
    const history = [
      recorded(0, 'buy', '7', '10.5', '0.25'),
      recorded(5, 'buy', '3', '11', '0.1'),
      recorded(5, 'sell', '4', '12.125', '0.3'),
      recorded(9, 'sell', '2', '9.75'),
    ];
    const news = [incoming(0, 5, 'buy', '1.5', '10', '0.05'), incoming(1, 7, 'sell', '0.5', '13')];
    const merged = [...history, ...news].sort(
      (a, b) => a.executedAt.getTime() - b.executedAt.getTime() || Number(a.seq - b.seq),
    );
    const r = replaySymbol({ start: EMPTY_POSITION, history, incoming: news, options: LONG, snapshotEvery: 0 });
    const expected = replay(merged, LONG);
    if (!r.ok) throw new Error('refused');
    expect(r.state.quantity.eq(expected.quantity)).toBe(true);
    expect(r.state.costBasis.eq(expected.costBasis)).toBe(true);
    expect(r.state.realisedPnl.eq(expected.realisedPnl)).toBe(true);
    expect(r.state.fees.eq(expected.fees)).toBe(true);
    // A new trade at the same time as a recorded one sorts after it (its seq is higher).
    expect(r.state.tradeCount).toBe(6);
  });

  it('4. a new sell larger than what is held then is refused, naming it and the holding', () => {
    // Recorded buy 10 at t=0 and buy 10 at t=30. New sell 15 at t=10: only 10 held then.
    const history = [recorded(0, 'buy', '10', '100'), recorded(30, 'buy', '10', '100')];
    const sell = incoming(4, 10, 'sell', '15', '110');
    const r = replaySymbol({ start: EMPTY_POSITION, history, incoming: [sell], options: LONG, snapshotEvery: 0 });
    expect(r.ok).toBe(false);
    if (r.ok || !('refused' in r)) throw new Error('expected a refused new trade');
    expect(r.refused).toBe(sell);
    expect(r.held.toFixed()).toBe('10');
  });

  it('5. a back-dated sell that leaves a recorded sell uncovered names the recorded one', () => {
    // Recorded: buy 10 (t=0), sell 8 (t=20). New sell 5 at t=10 fits (10 held), but the recorded
    // sell of 8 then finds only 5.
    const history = [recorded(0, 'buy', '10', '100'), recorded(20, 'sell', '8', '100')];
    const r = replaySymbol({
      start: EMPTY_POSITION,
      history,
      incoming: [incoming(0, 10, 'sell', '5', '100')],
      options: LONG,
      snapshotEvery: 0,
    });
    if (r.ok || !('uncovered' in r)) throw new Error('expected an uncovered recorded sell');
    expect(r.uncovered.id).toBe('r2');
    expect(r.held.toFixed()).toBe('5');
  });

  it('6. with shorts allowed the same back-dated sell goes through and opens a short', () => {
    // Sell 5 @ 100 at t=10 (5 left, basis 500), recorded sell 8 @ 100 closes 5 (releases 500,
    // realised 0) and opens a short of 3 for -300.
    const history = [recorded(0, 'buy', '10', '100'), recorded(20, 'sell', '8', '100')];
    const r = replaySymbol({
      start: EMPTY_POSITION,
      history,
      incoming: [incoming(0, 10, 'sell', '5', '100')],
      options: SHORT,
      snapshotEvery: 0,
    });
    expect(figures(r)).toMatchObject({ quantity: '-3', costBasis: '-300', realisedPnl: '0', tradeCount: 3 });
  });

  it('7. snapshots: every n-th trade of the symbol from the earliest new trade on, none before it', () => {
    // 5 recorded trades at t=0..4, a new one at t=2.5 (the 4th in execution order), n = 2:
    // counts 4 (the new trade itself) and 6 are at or after it; count 2 is before it (already
    // stored, not retaken).
    const history = [0, 1, 2, 3, 4].map((m) => recorded(m, 'buy', '1', '10'));
    const late = incoming(0, 2.5, 'buy', '1', '20');
    const r = replaySymbol({ start: EMPTY_POSITION, history, incoming: [late], options: LONG, snapshotEvery: 2 });
    if (!r.ok) throw new Error('refused');
    expect(r.snapshots.map((s) => [s.state.tradeCount, s.executedAt.toISOString(), s.seq])).toEqual([
      [4, at(2.5).toISOString(), 6n],
      [6, at(4).toISOString(), 5n],
    ]);
    // The new trade's snapshot holds 3 buys @ 10 and itself @ 20: 4 for 50.
    expect(formatDecimal(r.snapshots[0].state.costBasis)).toBe('50');
  });

  it('8. in order, snapshots continue the count of the maintained position', () => {
    const start = replay(
      [0, 1, 2].map((m) => recorded(m, 'buy', '1', '10')),
      LONG,
    );
    const r = replaySymbol({
      start,
      history: [],
      incoming: [3, 4, 5, 6].map((m, i) => incoming(i, m, 'buy', '1', '10')),
      options: LONG,
      snapshotEvery: 4,
    });
    if (!r.ok) throw new Error('refused');
    expect(r.snapshots.map((s) => s.state.tradeCount)).toEqual([4]);
    expect(r.state.tradeCount).toBe(7);
  });
});
