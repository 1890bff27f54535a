import { DataSource } from 'typeorm';
import { PortfoliosService } from '../../../src/trading/portfolios/portfolios.service';
import { SNAPSHOT_INTERVAL } from '../../../src/trading/positions/position-snapshots.repository';
import { PositionsService } from '../../../src/trading/positions/positions.service';
import { replay, type Side } from '../../../src/trading/valuation/average-cost';
import { Dec, formatDecimal } from '../../../src/trading/valuation/decimal';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

const at = (minute: number): string => new Date(Date.UTC(2026, 4, 4, 9, 0) + minute * 60_000).toISOString();

interface TradeRow {
  side: Side;
  quantity: string;
  price: string;
  fees: string;
  executed_at: Date;
  seq: string;
}

/**
 * `?asOf=` reads start from a position snapshot taken every SNAPSHOT_INTERVAL trades of a symbol,
 * maintained in the ingestion transaction, including when a back-dated trade lands before them.
 */
describe('position snapshots for as-of reads', () => {
  let t: TestApp;
  let db: DataSource;
  let trader: Awaited<ReturnType<typeof createUser>>;
  let portfolioId: string;

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    db = t.app.get(DataSource);
    const root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    trader = await createUser(t, root, ['trader']);
    const res = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(trader.tokens))
      .send({ name: 'snapshots', baseCurrency: 'USD' });
    portfolioId = res.body.id as string;
  });
  afterAll(() => t?.close());

  const history = (symbol: string): Promise<TradeRow[]> =>
    db.query<TradeRow[]>(
      `SELECT side, quantity, price, fees, executed_at, seq FROM trades
        WHERE portfolio_id = $1 AND symbol = $2 ORDER BY executed_at, seq`,
      [portfolioId, symbol],
    );

  /** Every snapshot sits on the (k × interval)-th trade and holds exactly the replay up to it. */
  async function expectSnapshotsConsistent(symbol: string): Promise<number> {
    const trades = await history(symbol);
    const rows = await db.query<
      { through_executed_at: Date; through_seq: string; quantity: string; cost_basis: string; trade_count: number }[]
    >(
      `SELECT through_executed_at, through_seq, quantity, cost_basis, trade_count FROM position_snapshots
        WHERE portfolio_id = $1 AND symbol = $2 ORDER BY through_executed_at, through_seq`,
      [portfolioId, symbol],
    );
    expect(rows.map((r) => r.trade_count)).toEqual(
      Array.from({ length: Math.floor(trades.length / SNAPSHOT_INTERVAL) }, (_, i) => (i + 1) * SNAPSHOT_INTERVAL),
    );
    for (const row of rows) {
      const upTo = trades.slice(0, row.trade_count);
      const last = upTo[upTo.length - 1];
      expect([row.through_executed_at.toISOString(), row.through_seq]).toEqual([
        last.executed_at.toISOString(),
        last.seq,
      ]);
      const state = replay(
        upTo.map((r) => ({ ...r, executedAt: r.executed_at })),
        { allowShort: false },
      );
      expect([formatDecimal(state.quantity), formatDecimal(state.costBasis)]).toEqual([
        formatDecimal(new Dec(row.quantity)),
        formatDecimal(new Dec(row.cost_basis)),
      ]);
    }
    return rows.length;
  }

  async function expectAsOfEqualsFullReplay(moments: string[]): Promise<void> {
    const portfolio = await t.app
      .get(PortfoliosService)
      .requireAccess(
        { userId: trader.id, email: trader.email, roles: ['trader'], permissions: new Set() },
        portfolioId,
      );
    for (const moment of moments) {
      const res = await t.http
        .get(`/api/v1/portfolios/${portfolioId}/positions?asOf=${moment}`)
        .set(bearer(trader.tokens));
      expect(res.status).toBe(200);
      const full = await t.app.get(PositionsService).replay(portfolio, new Date(moment));
      expect(
        res.body.positions.map((p: Record<string, unknown>) => [p.symbol, p.quantity, p.costBasis, p.realisedPnl]),
      ).toEqual(
        [...full]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([s, p]) => [s, formatDecimal(p.quantity), formatDecimal(p.costBasis), formatDecimal(p.realisedPnl)]),
      );
    }
  }

  it('snapshots every interval in order, rewrites them after a back-dated trade, and as-of reads match a full replay', async () => {
    // 300 trades of SNAP (buys, and sells of less than is held) and 40 of OTHER, in execution order.
    const trades = [];
    let held = 0;
    for (let i = 0; i < 300; i++) {
      const qty = (i % 7) + 1;
      const sell = i % 3 === 2 && held > qty;
      held += sell ? -qty : qty;
      trades.push({
        symbol: 'SNAP',
        side: sell ? 'sell' : 'buy',
        quantity: String(qty),
        price: `${100 + (i % 13)}.25`,
        fees: '0.1',
        executedAt: at(i * 2),
      });
      if (i % 8 === 0)
        trades.push({ symbol: 'OTHER', side: 'buy', quantity: '1', price: '5', executedAt: at(i * 2 + 1) });
    }
    const first = await t.http
      .post(`/api/v1/portfolios/${portfolioId}/trades/bulk`)
      .set(bearer(trader.tokens))
      .send({ trades: trades.slice(0, 150) });
    expect(first.status).toBe(201);
    const second = await t.http
      .post(`/api/v1/portfolios/${portfolioId}/trades/bulk`)
      .set(bearer(trader.tokens))
      .send({ trades: trades.slice(150) });
    expect(second.status).toBe(201);
    expect(await expectSnapshotsConsistent('SNAP')).toBe(Math.floor(300 / SNAPSHOT_INTERVAL));
    await expectAsOfEqualsFullReplay([at(-1), at(1), at(127), at(128), at(301), at(599), at(10_000)]);

    // Back-dated buys land before most of the history: later snapshots are replaced, not left stale.
    const early = await t.http
      .post(`/api/v1/portfolios/${portfolioId}/trades/bulk`)
      .set(bearer(trader.tokens))
      .send({
        trades: [
          { symbol: 'SNAP', side: 'buy', quantity: '50', price: '1', executedAt: at(-10) },
          { symbol: 'SNAP', side: 'buy', quantity: '3', price: '2', executedAt: at(200) },
          { symbol: 'SNAP', side: 'buy', quantity: '4', price: '3', executedAt: at(200) },
        ],
      });
    expect(early.status).toBe(201);
    expect(await expectSnapshotsConsistent('SNAP')).toBe(Math.floor(303 / SNAPSHOT_INTERVAL));
    await expectAsOfEqualsFullReplay([at(-10), at(0), at(199), at(200), at(201), at(400), at(10_000)]);
  });
});
