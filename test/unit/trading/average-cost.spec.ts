import {
  applyTrade,
  compareExecution,
  EMPTY_POSITION,
  formatValuation,
  InsufficientPositionError,
  InvalidTradeError,
  type PositionState,
  portfolioTotals,
  replay,
  replayBySymbol,
  type Side,
  type TradeFacts,
  valuePosition,
} from '../../../src/trading/valuation/average-cost';
import { Dec, formatDecimal } from '../../../src/trading/valuation/decimal';

/**
 * Scenarios with figures computed by hand (shown in the comments), in the style of ghostfolio's
 * portfolio-calculator specs. Every expected value is a decimal string.
 */
const LONG = { allowShort: false };
const SHORT = { allowShort: true };

let clock = Date.UTC(2026, 0, 5, 14, 30);
function t(side: Side, quantity: string, price: string, fees = '0', at?: Date): TradeFacts {
  clock += 60_000;
  return { side, quantity, price, fees, executedAt: at ?? new Date(clock) };
}

function shown(state: PositionState, price?: string) {
  return formatValuation(valuePosition('X', state, price === undefined ? null : new Dec(price)));
}

describe('average-cost calculator', () => {
  it('1. a single buy: cost basis = qty × price, valued at the latest price', () => {
    // buy 10 @ 100: basis 1000, average 100; at 110: value 1100, unrealised +100.
    const s = replay([t('buy', '10', '100')], LONG);
    expect(shown(s, '110')).toEqual({
      quantity: '10',
      averageCost: '100',
      costBasis: '1000',
      price: '110',
      marketValue: '1100',
      unrealisedPnl: '100',
      realisedPnl: '0',
      fees: '0',
    });
  });

  it('2. buys at different prices average the cost', () => {
    // 10 @ 100 = 1000, 30 @ 120 = 3600: 40 for 4600, average 115; at 110: value 4400, unrealised -200.
    const s = replay([t('buy', '10', '100'), t('buy', '30', '120')], LONG);
    expect(shown(s, '110')).toMatchObject({
      quantity: '40',
      averageCost: '115',
      costBasis: '4600',
      marketValue: '4400',
      unrealisedPnl: '-200',
      realisedPnl: '0',
    });
  });

  it('3. a partial sell realises (sell price - average cost) × qty and keeps the average', () => {
    // after scenario 2, sell 10 @ 130: released 4600 × 10/40 = 1150, realised 1300 - 1150 = 150;
    // left 30 for 3450, average still 115.
    const s = replay([t('buy', '10', '100'), t('buy', '30', '120'), t('sell', '10', '130')], LONG);
    expect(shown(s, '130')).toMatchObject({
      quantity: '30',
      averageCost: '115',
      costBasis: '3450',
      marketValue: '3900',
      unrealisedPnl: '450',
      realisedPnl: '150',
    });
  });

  it('4. selling out then buying again starts a fresh average and keeps realised P&L', () => {
    // buy 10 @ 100, sell 10 @ 120: realised 200, flat, basis 0. Buy 5 @ 90: average 90.
    const flat = replay([t('buy', '10', '100'), t('sell', '10', '120')], LONG);
    expect(shown(flat, '95')).toEqual({
      quantity: '0',
      averageCost: null,
      costBasis: '0',
      price: '95',
      marketValue: '0',
      unrealisedPnl: '0',
      realisedPnl: '200',
      fees: '0',
    });
    const again = applyTrade(flat, t('buy', '5', '90'), LONG);
    expect(shown(again, '95')).toMatchObject({
      quantity: '5',
      averageCost: '90',
      costBasis: '450',
      unrealisedPnl: '25',
      realisedPnl: '200',
    });
  });

  it('5. buy fees go into the cost basis, sell fees reduce realised P&L', () => {
    // buy 10 @ 100 fee 5: basis 1005, average 100.5.
    // sell 4 @ 110 fee 2: released 1005 × 4/10 = 402, realised 440 - 402 - 2 = 36; left 6 for 603.
    const s = replay([t('buy', '10', '100', '5'), t('sell', '4', '110', '2')], LONG);
    expect(shown(s, '100')).toMatchObject({
      quantity: '6',
      averageCost: '100.5',
      costBasis: '603',
      marketValue: '600',
      unrealisedPnl: '-3',
      realisedPnl: '36',
      fees: '7',
    });
  });

  it('6. a short where allowed: symmetric average cost on the short side', () => {
    // sell 10 @ 50 fee 1: opens a short, basis -(500 - 1) = -499, average entry 49.9.
    // buy 4 @ 40 fee 1: releases -499 × 4/10 = -199.6; realised -(4 × 40) + 199.6 - 1 = 38.6.
    // left -6 for -299.4 (average 49.9); at 45: value -270, unrealised -270 + 299.4 = 29.4.
    const s = replay([t('sell', '10', '50', '1'), t('buy', '4', '40', '1')], SHORT);
    expect(shown(s, '45')).toMatchObject({
      quantity: '-6',
      averageCost: '49.9',
      costBasis: '-299.4',
      marketValue: '-270',
      unrealisedPnl: '29.4',
      realisedPnl: '38.6',
      fees: '2',
    });
  });

  it('7. selling more than is held is refused without allowShort, naming what is held', () => {
    expect(() => replay([t('sell', '1', '10')], LONG)).toThrow(InsufficientPositionError);
    const held = replay([t('buy', '5', '10')], LONG);
    let error: unknown;
    try {
      applyTrade(held, t('sell', '6', '11'), LONG);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InsufficientPositionError);
    expect((error as InsufficientPositionError).held.toFixed()).toBe('5');
    expect((error as Error).message).toBe('selling 6 but only 5 is held');
    // Selling exactly what is held is fine.
    expect(applyTrade(held, t('sell', '5', '11'), LONG).quantity.toFixed()).toBe('0');
  });

  it('8. a sell through zero closes the long and opens a short, fees split pro rata', () => {
    // buy 10 @ 100 (basis 1000); sell 15 @ 110 fee 3: closing 10 carries fee 2, opening 5 carries 1.
    // realised 1100 - 1000 - 2 = 98; short 5 with basis -(550 - 1) = -549, average 109.8.
    const s = replay([t('buy', '10', '100'), t('sell', '15', '110', '3')], SHORT);
    expect(shown(s, '100')).toMatchObject({
      quantity: '-5',
      averageCost: '109.8',
      costBasis: '-549',
      marketValue: '-500',
      unrealisedPnl: '49',
      realisedPnl: '98',
      fees: '3',
    });
    expect(() => replay([t('buy', '10', '100'), t('sell', '15', '110', '3')], LONG)).toThrow(InsufficientPositionError);
  });

  it('9. asOf in the middle: only trades executed up to that moment count', () => {
    // t1 buy 10 @ 100, t2 buy 10 @ 200, t3 sell 5 @ 300.
    // as of between t2 and t3: 20 for 3000, average 150, nothing realised; at 180: +600.
    // at the end: released 3000 × 5/20 = 750, realised 1500 - 750 = 750, left 15 for 2250.
    const t1 = new Date('2026-02-01T10:00:00Z');
    const t2 = new Date('2026-02-02T10:00:00Z');
    const t3 = new Date('2026-02-03T10:00:00Z');
    const trades = [
      { ...t('buy', '10', '100', '0', t1), symbol: 'ACME' },
      { ...t('buy', '10', '200', '0', t2), symbol: 'ACME' },
      { ...t('sell', '5', '300', '0', t3), symbol: 'ACME' },
    ];
    const middle = replayBySymbol(trades, { ...LONG, until: new Date('2026-02-02T18:00:00Z') }).get('ACME')!;
    expect(shown(middle, '180')).toMatchObject({
      quantity: '20',
      averageCost: '150',
      costBasis: '3000',
      unrealisedPnl: '600',
      realisedPnl: '0',
    });
    expect(middle.tradeCount).toBe(2);
    // A trade executed exactly at asOf is included.
    expect(
      replayBySymbol(trades, { ...LONG, until: t3 })
        .get('ACME')!
        .quantity.toFixed(),
    ).toBe('15');
    const end = replayBySymbol(trades, LONG).get('ACME')!;
    expect(shown(end, '300')).toMatchObject({ quantity: '15', costBasis: '2250', realisedPnl: '750' });
    expect(replayBySymbol(trades, { ...LONG, until: new Date('2026-01-01T00:00:00Z') }).size).toBe(0);
  });

  it('10. a non-terminating average is rounded for display; a full round trip realises exactly', () => {
    // buy 1 @ 10 and 2 @ 11: 3 for 32, average 10.666…; sell 1 @ 12 releases 32/3 rounded to 10
    // places (10.6666666667): realised 1.3333333333; sell 2 @ 12 releases the rest (21.3333333333):
    // realised 4 in all, exactly (proceeds 36 - cost 32).
    const bought = replay([t('buy', '1', '10'), t('buy', '2', '11')], LONG);
    expect(shown(bought).averageCost).toBe('10.66666667');
    const partly = applyTrade(bought, t('sell', '1', '12'), LONG);
    expect(partly.realisedPnl.toFixed()).toBe('1.3333333333');
    expect(partly.costBasis.toFixed()).toBe('21.3333333333');
    expect(shown(partly).realisedPnl).toBe('1.33333333');
    const closed = applyTrade(partly, t('sell', '2', '12'), LONG);
    expect(closed.realisedPnl.toFixed()).toBe('4');
    expect(closed.costBasis.toFixed()).toBe('0');
  });

  it('11. fractional quantities and large prices stay exact (no binary floats)', () => {
    // 0.1 + 0.2 BTC at 30000.12345678 and 30000.87654322: basis 3000.012345678 + 6000.175308644
    // = 9000.187654322 for 0.3; average 30000.62551440667 → 30000.62551441 shown.
    const s = replay([t('buy', '0.1', '30000.12345678'), t('buy', '0.2', '30000.87654322')], LONG);
    expect(s.quantity.toFixed()).toBe('0.3');
    expect(s.costBasis.toFixed()).toBe('9000.187654322');
    expect(shown(s).averageCost).toBe('30000.62551441');
    // 0.1 + 0.2 is exactly 0.3, and selling 0.3 closes the position.
    expect(applyTrade(s, t('sell', '0.3', '31000'), LONG).quantity.isZero()).toBe(true);
  });

  it('12. portfolio totals add priced positions and list unpriced open ones', () => {
    // ACME: 10 @ 100 valued at 110 → +100. BETA: 5 @ 20 unpriced. GONE: bought 1 @ 50, sold @ 70: +20 realised.
    const acme = valuePosition('ACME', replay([t('buy', '10', '100', '1')], LONG), new Dec('110'));
    const beta = valuePosition('BETA', replay([t('buy', '5', '20')], LONG), null);
    const gone = valuePosition('GONE', replay([t('buy', '1', '50'), t('sell', '1', '70', '0.5')], LONG), null);
    const totals = portfolioTotals([acme, beta, gone]);
    // basis 1001 + 100 + 0; value 1100 (+0 for flat GONE); unrealised 99; realised 19.5; fees 1.5.
    expect({
      costBasis: formatDecimal(totals.costBasis),
      marketValue: formatDecimal(totals.marketValue),
      unrealisedPnl: formatDecimal(totals.unrealisedPnl),
      realisedPnl: formatDecimal(totals.realisedPnl),
      totalPnl: formatDecimal(totals.totalPnl),
      fees: formatDecimal(totals.fees),
    }).toEqual({
      costBasis: '1101',
      marketValue: '1100',
      unrealisedPnl: '99',
      realisedPnl: '19.5',
      totalPnl: '118.5',
      fees: '1.5',
    });
    expect(totals.openPositions).toBe(2);
    expect(totals.unpricedSymbols).toEqual(['BETA']);
  });

  it('13. a zero-price trade (a gift or a write-off) is accepted', () => {
    // buy 10 @ 0 then 10 @ 10: 20 for 100, average 5; sell 20 @ 0 realises -100.
    const s = replay([t('buy', '10', '0'), t('buy', '10', '10'), t('sell', '20', '0')], LONG);
    expect(s.realisedPnl.toFixed()).toBe('-100');
  });

  it('14. refuses impossible trades', () => {
    expect(() => applyTrade(EMPTY_POSITION, t('buy', '0', '1'), LONG)).toThrow(InvalidTradeError);
    expect(() => applyTrade(EMPTY_POSITION, t('buy', '1', '-1'), LONG)).toThrow(InvalidTradeError);
    expect(() => applyTrade(EMPTY_POSITION, t('buy', '1', '1', '-0.01'), LONG)).toThrow(InvalidTradeError);
  });

  it('orders by execution time, then by recording order', () => {
    const a = { executedAt: new Date('2026-01-01T00:00:00Z'), seq: 5n };
    const b = { executedAt: new Date('2026-01-01T00:00:00Z'), seq: 7n };
    const c = { executedAt: new Date('2025-12-31T00:00:00Z'), seq: 9n };
    expect([b, a, c].sort(compareExecution)).toEqual([c, a, b]);
  });

  it('incremental application with stored state equals a full replay (random histories)', () => {
    // Maintained positions store strings in PostgreSQL and apply new trades to them; a replay starts
    // from nothing. The two must agree to the last digit.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const roundTrip = (s: PositionState): PositionState => ({
      ...s,
      quantity: new Dec(s.quantity.toFixed()),
      costBasis: new Dec(s.costBasis.toFixed()),
      realisedPnl: new Dec(s.realisedPnl.toFixed()),
      fees: new Dec(s.fees.toFixed()),
    });
    for (let run = 0; run < 50; run++) {
      const options = run % 2 === 0 ? LONG : SHORT;
      const trades: TradeFacts[] = [];
      let held = new Dec(0);
      for (let i = 0; i < 200; i++) {
        const qty = new Dec(Math.floor(random() * 1_000_000) + 1).dividedBy(1000);
        let side: Side = random() < 0.55 ? 'buy' : 'sell';
        if (side === 'sell' && !options.allowShort && held.lt(qty)) side = 'buy';
        held = side === 'buy' ? held.plus(qty) : held.minus(qty);
        const price = new Dec(Math.floor(random() * 10_000_000)).dividedBy(10_000).toFixed();
        const fees = new Dec(Math.floor(random() * 1000)).dividedBy(100).toFixed();
        trades.push(t(side, qty.toFixed(), price, fees));
      }
      let maintained = EMPTY_POSITION;
      for (const trade of trades) maintained = roundTrip(applyTrade(maintained, trade, options));
      const full = replay(trades, options);
      expect({
        q: maintained.quantity.toFixed(),
        c: maintained.costBasis.toFixed(),
        r: maintained.realisedPnl.toFixed(),
        f: maintained.fees.toFixed(),
      }).toEqual({
        q: full.quantity.toFixed(),
        c: full.costBasis.toFixed(),
        r: full.realisedPnl.toFixed(),
        f: full.fees.toFixed(),
      });
      expect(full.quantity.toFixed()).toBe(held.toFixed());
    }
  });
});
