import { EventEmitter2 } from '@nestjs/event-emitter';
import { PositionsService } from '../../../src/trading/positions/positions.service';
import { formatDecimal } from '../../../src/trading/valuation/decimal';
import { PortfoliosService } from '../../../src/trading/portfolios/portfolios.service';
import {
  type PortfolioRevaluedEvent,
  type PriceUpdatedEvent,
  type TradeCreatedEvent,
  TradingEvents,
} from '../../../src/trading/trading.events';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

interface TradeBody {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string;
  fees?: string;
  executedAt: string;
  externalId?: string;
}

const at = (minute: number): string => new Date(Date.UTC(2026, 2, 2, 9, 0) + minute * 60_000).toISOString();

describe('trading: portfolios, trades, prices, positions', () => {
  let t: TestApp;
  let root: Tokens;
  let traderA: User;
  let traderB: User;
  let viewer: User;
  let analyst: User;
  let manager: User;
  let portfolioA: string;
  let portfolioB: string;

  const createPortfolio = async (who: Tokens, body: Record<string, unknown>): Promise<string> => {
    const res = await t.http.post('/api/v1/portfolios').set(bearer(who)).send(body);
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const bulk = (who: Tokens, id: string, trades: TradeBody[], key?: string) => {
    const req = t.http.post(`/api/v1/portfolios/${id}/trades/bulk`).set(bearer(who));
    if (key) req.set('Idempotency-Key', key);
    return req.send({ trades });
  };
  const countTrades = async (id: string): Promise<number> => {
    const [row] = await t.app
      .get(PortfoliosService)
      ['dataSource'].query('SELECT count(*)::int AS n FROM trades WHERE portfolio_id = $1', [id]);
    return row.n as number;
  };

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [traderA, traderB, viewer, analyst, manager] = await Promise.all([
      createUser(t, root, ['trader']),
      createUser(t, root, ['trader']),
      createUser(t, root, ['viewer']),
      createUser(t, root, ['analyst']),
      createUser(t, root, ['manager']),
    ]);
    portfolioA = await createPortfolio(traderA.tokens, { name: 'Alpha book', baseCurrency: 'usd' });
    portfolioB = await createPortfolio(traderB.tokens, { name: 'Beta book', baseCurrency: 'EUR', allowShort: true });
  });
  afterAll(() => t?.close());

  describe('access', () => {
    it('creates a portfolio owned by the caller, currency upper-cased', async () => {
      const res = await t.http.get(`/api/v1/portfolios/${portfolioA}`).set(bearer(traderA.tokens));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: portfolioA,
        name: 'Alpha book',
        ownerId: traderA.id,
        description: '',
        baseCurrency: 'USD',
        allowShort: false,
        sharedWith: [],
        shares: [],
        archivedAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
    });

    it("gives trader A 404 for trader B's portfolio, everywhere, and leaves it out of A's list", async () => {
      for (const path of [
        `/api/v1/portfolios/${portfolioB}`,
        `/api/v2/portfolios/${portfolioB}`,
        `/api/v1/portfolios/${portfolioB}/positions`,
        `/api/v1/portfolios/${portfolioB}/trades`,
      ]) {
        const res = await t.http.get(path).set(bearer(traderA.tokens));
        expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
      }
      const write = await t.http
        .post(`/api/v1/portfolios/${portfolioB}/trades`)
        .set(bearer(traderA.tokens))
        .send({ symbol: 'ACME', side: 'buy', quantity: '1', price: '1', executedAt: at(0) });
      expect(write.status).toBe(404);
      expect(await countTrades(portfolioB)).toBe(0);
      // The same answer as for a portfolio that does not exist at all.
      const missing = await t.http
        .get('/api/v1/portfolios/00000000-0000-4000-8000-000000000000')
        .set(bearer(traderA.tokens));
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toBe(
        (await t.http.get(`/api/v1/portfolios/${portfolioB}`).set(bearer(traderA.tokens))).body.detail,
      );

      const list = await t.http.get('/api/v1/portfolios').set(bearer(traderA.tokens));
      expect(list.status).toBe(200);
      expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([portfolioA]);
    });

    it('lets members of a group it is shared with see it; only the owner shares', async () => {
      const group = await t.http.post('/api/v1/groups').set(bearer(root)).send({ name: 'Beta readers' });
      expect(group.status).toBe(201);
      await t.http.put(`/api/v1/groups/${group.body.id}/members/${viewer.id}`).set(bearer(root)).expect(204);

      expect((await t.http.get(`/api/v1/portfolios/${portfolioB}`).set(bearer(viewer.tokens))).status).toBe(404);
      // Not the owner and cannot see it: 404, not 403.
      const byOther = await t.http
        .put(`/api/v1/portfolios/${portfolioB}/shares/${group.body.id}`)
        .set(bearer(traderA.tokens));
      expect(byOther.status).toBe(404);
      const share = await t.http
        .put(`/api/v1/portfolios/${portfolioB}/shares/${group.body.id}`)
        .set(bearer(traderB.tokens));
      expect(share.status).toBe(204);

      const seen = await t.http.get(`/api/v1/portfolios/${portfolioB}`).set(bearer(viewer.tokens));
      expect(seen.status).toBe(200);
      expect(seen.body.sharedWith).toEqual([group.body.id]);
      const list = await t.http.get('/api/v1/portfolios').set(bearer(viewer.tokens));
      expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([portfolioB]);
      // A member who can see it but does not own it may not re-share it.
      const reshare = await t.http
        .delete(`/api/v1/portfolios/${portfolioB}/shares/${group.body.id}`)
        .set(bearer(viewer.tokens));
      expect(reshare.status).toBe(403);
      // A viewer reads but cannot record trades (no trades:write).
      const write = await t.http
        .post(`/api/v1/portfolios/${portfolioB}/trades`)
        .set(bearer(viewer.tokens))
        .send({ symbol: 'ACME', side: 'buy', quantity: '1', price: '1', executedAt: at(0) });
      expect(write.status).toBe(403);

      const audit = await t.http.get('/api/v1/audit-events?action=portfolio.shared').set(bearer(root));
      expect(audit.status).toBe(200);
      expect(audit.body.items.some((e: { targetId: string }) => e.targetId === portfolioB)).toBe(true);

      // Unsharing takes it away again.
      await t.http
        .delete(`/api/v1/portfolios/${portfolioB}/shares/${group.body.id}`)
        .set(bearer(traderB.tokens))
        .expect(204);
      expect((await t.http.get(`/api/v1/portfolios/${portfolioB}`).set(bearer(viewer.tokens))).status).toBe(404);
      await t.http
        .put(`/api/v1/portfolios/${portfolioB}/shares/${group.body.id}`)
        .set(bearer(traderB.tokens))
        .expect(204);
    });

    it('shows every portfolio to holders of portfolios:read-all', async () => {
      const list = await t.http.get('/api/v1/portfolios').set(bearer(analyst.tokens));
      expect(list.body.items.map((p: { id: string }) => p.id).sort()).toEqual([portfolioA, portfolioB].sort());
      expect((await t.http.get(`/api/v1/portfolios/${portfolioA}`).set(bearer(analyst.tokens))).status).toBe(200);
      // Reading everything is not writing: an analyst has no trades:write.
      const write = await t.http
        .post(`/api/v1/portfolios/${portfolioA}/trades`)
        .set(bearer(analyst.tokens))
        .send({ symbol: 'ACME', side: 'buy', quantity: '1', price: '1', executedAt: at(0) });
      expect(write.status).toBe(403);
    });

    it('pages the list by name', async () => {
      const ids = [];
      for (const name of ['c', 'a', 'b'])
        ids.push(await createPortfolio(traderA.tokens, { name, baseCurrency: 'GBP' }));
      const first = await t.http.get('/api/v1/portfolios?limit=2').set(bearer(traderA.tokens));
      expect(first.body.items.map((p: { name: string }) => p.name)).toEqual(['a', 'Alpha book']);
      const second = await t.http
        .get(`/api/v1/portfolios?limit=2&cursor=${first.body.nextCursor}`)
        .set(bearer(traderA.tokens));
      expect(second.body.items.map((p: { name: string }) => p.name)).toEqual(['b', 'c']);
      expect(second.body.nextCursor).toBeNull();
    });
  });

  describe('ingestion', () => {
    it('records a trade and values it; decimals are strings, exact', async () => {
      const id = await createPortfolio(traderA.tokens, { name: 'Single', baseCurrency: 'USD' });
      const res = await t.http.post(`/api/v1/portfolios/${id}/trades`).set(bearer(traderA.tokens)).send({
        symbol: ' acme ',
        side: 'buy',
        quantity: '10',
        price: '100.10',
        fees: '0.2',
        executedAt: '2026-03-02T10:00:00.5+01:00',
        externalId: 'X-1',
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        portfolioId: id,
        symbol: 'ACME',
        side: 'buy',
        quantity: '10',
        price: '100.1',
        fees: '0.2',
        executedAt: '2026-03-02T09:00:00.500Z',
        externalId: 'X-1',
        createdBy: traderA.id,
        createdAt: expect.any(String),
      });
      // The same externalId and content again: not stored twice, the stored trade comes back with 200.
      const again = await t.http.post(`/api/v1/portfolios/${id}/trades`).set(bearer(traderA.tokens)).send({
        symbol: 'ACME',
        side: 'buy',
        quantity: '10.000',
        price: '100.1',
        fees: '0.20',
        executedAt: '2026-03-02T09:00:00.500Z',
        externalId: 'X-1',
      });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(res.body.id);
      // The same externalId for a different trade: 409 naming it.
      const other = await t.http
        .post(`/api/v1/portfolios/${id}/trades`)
        .set(bearer(traderA.tokens))
        .send({ symbol: 'ACME', side: 'buy', quantity: '11', price: '100.1', executedAt: at(1), externalId: 'X-1' });
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ code: 'EXTERNAL_ID_CONFLICT', errors: [{ field: 'externalId' }] });
      expect(await countTrades(id)).toBe(1);

      await t.http
        .post('/api/v1/prices')
        .set(bearer(manager.tokens))
        .send({ symbol: 'ACME', price: '101.3', asOf: '2026-03-02T16:00:00Z' })
        .expect(201);
      const positions = await t.http.get(`/api/v1/portfolios/${id}/positions`).set(bearer(traderA.tokens));
      expect(positions.status).toBe(200);
      // basis 1001 + 0.2 = 1001.2, average 100.12; value 1013, unrealised 11.8.
      expect(positions.body.positions).toEqual([
        {
          symbol: 'ACME',
          quantity: '10',
          averageCost: '100.12',
          costBasis: '1001.2',
          price: '101.3',
          priceAsOf: '2026-03-02T16:00:00.000Z',
          marketValue: '1013',
          unrealisedPnl: '11.8',
          realisedPnl: '0',
          fees: '0.2',
          tradeCount: 1,
        },
      ]);
      expect(positions.body.totals).toEqual({
        costBasis: '1001.2',
        marketValue: '1013',
        unrealisedPnl: '11.8',
        realisedPnl: '0',
        totalPnl: '11.8',
        fees: '0.2',
        openPositions: 1,
        unpricedSymbols: [],
      });
    });

    it('refuses malformed trades, naming each field', async () => {
      const res = await t.http.post(`/api/v1/portfolios/${portfolioA}/trades`).set(bearer(traderA.tokens)).send({
        symbol: 'bad symbol!',
        side: 'hold',
        quantity: 0.1,
        price: '-1',
        fees: '1e3',
        executedAt: '2026-03-02',
        extra: 1,
      });
      expect(res.status).toBe(400);
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
      expect(new Set(fields)).toEqual(new Set(['symbol', 'side', 'quantity', 'price', 'fees', 'executedAt', 'extra']));
      const tooPrecise = await t.http
        .post(`/api/v1/portfolios/${portfolioA}/trades`)
        .set(bearer(traderA.tokens))
        .send({ symbol: 'ACME', side: 'buy', quantity: '1.123456789', price: '1234567890123', executedAt: at(0) });
      expect(tooPrecise.status).toBe(400);
      expect((tooPrecise.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['price', 'quantity']);
    });

    it('refuses selling more than is held without allowShort, naming the item, and stores nothing', async () => {
      const id = await createPortfolio(traderA.tokens, { name: 'Long only', baseCurrency: 'USD' });
      const res = await bulk(traderA.tokens, id, [
        { symbol: 'ACME', side: 'buy', quantity: '5', price: '10', executedAt: at(1) },
        { symbol: 'ACME', side: 'sell', quantity: '3', price: '11', executedAt: at(2) },
        { symbol: 'ACME', side: 'sell', quantity: '3', price: '12', executedAt: at(3) },
      ]);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('INSUFFICIENT_POSITION');
      expect(res.body.errors).toEqual([
        { field: 'trades.2.quantity', message: `selling 3 ACME at ${at(3)} but only 2 is held then` },
      ]);
      expect(await countTrades(id)).toBe(0);

      const single = await t.http
        .post(`/api/v1/portfolios/${id}/trades`)
        .set(bearer(traderA.tokens))
        .send({ symbol: 'ACME', side: 'sell', quantity: '1', price: '1', executedAt: at(0) });
      expect(single.status).toBe(409);
      expect(single.body.errors[0].field).toBe('quantity');
    });

    it('opens a short where allowed', async () => {
      const res = await bulk(traderB.tokens, portfolioB, [
        { symbol: 'SHRT', side: 'sell', quantity: '10', price: '50', fees: '1', executedAt: at(10) },
        { symbol: 'SHRT', side: 'buy', quantity: '4', price: '40', fees: '1', executedAt: at(11) },
      ]);
      expect(res.status).toBe(201);
      const positions = await t.http.get(`/api/v1/portfolios/${portfolioB}/positions`).set(bearer(traderB.tokens));
      expect(positions.body.positions).toEqual([
        expect.objectContaining({
          symbol: 'SHRT',
          quantity: '-6',
          averageCost: '49.9',
          costBasis: '-299.4',
          realisedPnl: '38.6',
        }),
      ]);
    });

    it('refuses a bulk of 1,000 with one bad item (400 naming its index), stores nothing, and answers a keyed retry the same', async () => {
      const id = await createPortfolio(traderA.tokens, { name: 'Bulk', baseCurrency: 'USD' });
      const trades: TradeBody[] = Array.from({ length: 1000 }, (_, i) => ({
        symbol: ['AAA', 'BBB', 'CCC'][i % 3],
        side: 'buy',
        quantity: `${(i % 7) + 1}`,
        price: `${100 + (i % 13)}.25`,
        fees: '0.1',
        executedAt: at(i),
        externalId: `B-${i}`,
      }));
      const bad = structuredClone(trades);
      bad[637].price = '-3';
      const first = await bulk(traderA.tokens, id, bad, 'bulk-key-bad');
      expect(first.status).toBe(400);
      expect(first.body.code).toBe('VALIDATION_FAILED');
      expect(first.body.errors).toEqual([{ field: 'trades.637.price', message: expect.stringContaining('price') }]);
      expect(await countTrades(id)).toBe(0);
      const retried = await bulk(traderA.tokens, id, bad, 'bulk-key-bad');
      expect({ status: retried.status, body: { ...retried.body, requestId: undefined } }).toEqual({
        status: first.status,
        body: { ...first.body, requestId: undefined },
      });
      expect(await countTrades(id)).toBe(0);

      const ok = await bulk(traderA.tokens, id, trades, 'bulk-key-good');
      expect(ok.status).toBe(201);
      expect(ok.body).toEqual({
        portfolioId: id,
        received: 1000,
        created: 1000,
        duplicates: [],
        symbols: ['AAA', 'BBB', 'CCC'],
      });
      expect(ok.headers['idempotent-replayed']).toBeUndefined();
      const replay = await bulk(traderA.tokens, id, trades, 'bulk-key-good');
      expect(replay.status).toBe(201);
      expect(replay.body).toEqual(ok.body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(await countTrades(id)).toBe(1000);

      // Same key, different body: 422, nothing stored.
      const changed = structuredClone(trades);
      changed[0].quantity = '999';
      const reused = await bulk(traderA.tokens, id, changed, 'bulk-key-good');
      expect(reused.status).toBe(422);
      expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      // Keys are per user: trader B's same key is another request (and B cannot see the portfolio).
      expect((await bulk(traderB.tokens, id, trades, 'bulk-key-good')).status).toBe(404);

      // Without a key, the externalIds still keep every trade single: all reported as duplicates.
      const resent = await bulk(traderA.tokens, id, trades.slice(0, 10));
      expect(resent.status).toBe(200);
      expect(resent.body.created).toBe(0);
      expect(resent.body.duplicates).toHaveLength(10);
      expect(resent.body.duplicates[3]).toEqual({ index: 3, externalId: 'B-3', tradeId: expect.any(String) });
      expect(await countTrades(id)).toBe(1000);

      // Within one request, an externalId may appear once.
      const twice = await bulk(traderA.tokens, id, [trades[0], { ...trades[1], externalId: 'B-0' }]);
      expect(twice.status).toBe(400);
      expect(twice.body.errors[0].field).toBe('trades.1.externalId');

      const list = await t.http.get(`/api/v1/portfolios/${id}/trades?limit=2&symbol=bbb`).set(bearer(traderA.tokens));
      expect(list.status).toBe(200);
      expect(list.body.items.map((x: { externalId: string }) => x.externalId)).toEqual(['B-997', 'B-994']);
      const next = await t.http
        .get(`/api/v1/portfolios/${id}/trades?limit=2&symbol=BBB&cursor=${list.body.nextCursor}`)
        .set(bearer(traderA.tokens));
      expect(next.body.items.map((x: { externalId: string }) => x.externalId)).toEqual(['B-991', 'B-988']);
    });

    it('rejects an empty bulk and one over 10,000 items', async () => {
      expect((await bulk(traderA.tokens, portfolioA, [])).status).toBe(400);
      const res = await t.http
        .post(`/api/v1/portfolios/${portfolioA}/trades/bulk`)
        .set(bearer(traderA.tokens))
        .send({ trades: Array.from({ length: 10_001 }, () => ({})) });
      // Within BULK_BODY_LIMIT, so refused by count.
      expect(res.status).toBe(400);
    });

    it('refuses a bad Idempotency-Key', async () => {
      const res = await t.http
        .post(`/api/v1/portfolios/${portfolioA}/trades`)
        .set(bearer(traderA.tokens))
        .set('Idempotency-Key', 'x'.repeat(256))
        .send({ symbol: 'ACME', side: 'buy', quantity: '1', price: '1', executedAt: at(0) });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('Idempotency-Key');
    });
  });

  describe('valuation', () => {
    it('values as of a past moment from history and past prices', async () => {
      const id = await createPortfolio(traderA.tokens, { name: 'As of', baseCurrency: 'USD' });
      await bulk(traderA.tokens, id, [
        { symbol: 'ASOF', side: 'buy', quantity: '10', price: '100', executedAt: '2026-02-01T10:00:00Z' },
        { symbol: 'ASOF', side: 'buy', quantity: '10', price: '200', executedAt: '2026-02-02T10:00:00Z' },
        { symbol: 'ASOF', side: 'sell', quantity: '5', price: '300', executedAt: '2026-02-03T10:00:00Z' },
        // Not traded after the asOf below: taken from the maintained position, not replayed.
        { symbol: 'QUIET', side: 'buy', quantity: '3', price: '50', fees: '1', executedAt: '2026-02-01T12:00:00Z' },
      ]).expect(201);
      await t.http
        .post('/api/v1/prices/bulk')
        .set(bearer(manager.tokens))
        .send({
          prices: [
            { symbol: 'ASOF', price: '180', asOf: '2026-02-02T12:00:00Z' },
            { symbol: 'ASOF', price: '310', asOf: '2026-02-03T12:00:00Z' },
          ],
        })
        .expect(201);
      const middle = await t.http
        .get(`/api/v1/portfolios/${id}/positions?asOf=2026-02-02T18:00:00Z`)
        .set(bearer(traderA.tokens));
      expect(middle.status).toBe(200);
      expect(middle.body.asOf).toBe('2026-02-02T18:00:00.000Z');
      expect(middle.body.positions.map((p: { symbol: string }) => p.symbol)).toEqual(['ASOF', 'QUIET']);
      expect(middle.body.positions[1]).toMatchObject({ quantity: '3', costBasis: '151', price: null, tradeCount: 1 });
      expect(middle.body.totals.unpricedSymbols).toEqual(['QUIET']);
      expect(middle.body.positions[0]).toMatchObject({
        quantity: '20',
        averageCost: '150',
        costBasis: '3000',
        price: '180',
        marketValue: '3600',
        unrealisedPnl: '600',
        realisedPnl: '0',
        tradeCount: 2,
      });
      const now = await t.http.get(`/api/v1/portfolios/${id}/positions`).set(bearer(traderA.tokens));
      expect(now.body.asOf).toBeNull();
      // 15 at average 150 = 2250; at 310: 4650, unrealised 2400; realised (300 - 150) × 5 = 750.
      expect(now.body.positions[0]).toMatchObject({
        quantity: '15',
        costBasis: '2250',
        price: '310',
        marketValue: '4650',
        unrealisedPnl: '2400',
        realisedPnl: '750',
      });
      expect(now.body.totals.totalPnl).toBe('3150');
      // QUIET traded on 1 February only: as of 2 February 09:00 it is there, ASOF has one trade.
      const early = await t.http
        .get(`/api/v1/portfolios/${id}/positions?asOf=2026-02-02T09:00:00Z`)
        .set(bearer(traderA.tokens));
      expect(early.body.positions.map((p: { symbol: string; quantity: string }) => [p.symbol, p.quantity])).toEqual([
        ['ASOF', '10'],
        ['QUIET', '3'],
      ]);
      // Before any trade: nothing.
      const before = await t.http
        .get(`/api/v1/portfolios/${id}/positions?asOf=2026-01-01T00:00:00Z`)
        .set(bearer(traderA.tokens));
      expect(before.body.positions).toEqual([]);
    });

    it('v1 is the plain portfolio, v2 embeds positions and totals', async () => {
      const v1 = await t.http.get(`/api/v1/portfolios/${portfolioB}`).set(bearer(traderB.tokens));
      const v2 = await t.http.get(`/api/v2/portfolios/${portfolioB}`).set(bearer(traderB.tokens));
      expect(v1.status).toBe(200);
      expect(v2.status).toBe(200);
      expect(Object.keys(v1.body).sort()).toEqual(
        [
          'allowShort',
          'archivedAt',
          'baseCurrency',
          'createdAt',
          'description',
          'id',
          'name',
          'ownerId',
          'sharedWith',
          'shares',
          'updatedAt',
        ].sort(),
      );
      expect(Object.keys(v2.body).sort()).toEqual([...Object.keys(v1.body), 'positions', 'totals', 'valuedAt'].sort());
      const { positions, totals, valuedAt, ...rest } = v2.body;
      expect({ ...rest, updatedAt: undefined }).toEqual({ ...v1.body, updatedAt: undefined });
      expect(valuedAt).toEqual(expect.any(String));
      const v1Positions = await t.http.get(`/api/v1/portfolios/${portfolioB}/positions`).set(bearer(traderB.tokens));
      expect(positions).toEqual(v1Positions.body.positions);
      expect(totals).toEqual(v1Positions.body.totals);
      // No v2 for routes that did not change shape.
      expect((await t.http.get(`/api/v2/portfolios/${portfolioB}/positions`).set(bearer(traderB.tokens))).status).toBe(
        404,
      );
    });

    it('keeps maintained positions equal to a full recomputation, with trades out of order', async () => {
      const id = await createPortfolio(traderB.tokens, { name: 'Random', baseCurrency: 'USD', allowShort: true });
      const longOnly = await createPortfolio(traderA.tokens, { name: 'Random long', baseCurrency: 'USD' });
      let seed = 7;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const symbols = ['R1', 'R2', 'R3', 'R4'];
      const held = new Map<string, number>(); // in thousandths, for the long-only portfolio
      for (let batch = 0; batch < 6; batch++) {
        const shortTrades: TradeBody[] = [];
        const longTrades: TradeBody[] = [];
        for (let i = 0; i < 150; i++) {
          const symbol = symbols[Math.floor(random() * symbols.length)];
          // Spread over time so later batches land before earlier trades (out of order).
          const minute = Math.floor(random() * 10_000);
          const qty = Math.floor(random() * 100_000) + 1;
          const side: 'buy' | 'sell' = random() < 0.5 ? 'buy' : 'sell';
          const trade = {
            symbol,
            side,
            quantity: (qty / 1000).toFixed(3),
            price: (Math.floor(random() * 1_000_000) / 100).toFixed(2),
            fees: (Math.floor(random() * 500) / 100).toFixed(2),
            executedAt: at(minute),
          };
          shortTrades.push(trade);
          // Long only: buys at the start of time, sells never beyond what was bought before.
          const h = held.get(symbol) ?? 0;
          if (trade.side === 'sell' && h >= qty) {
            held.set(symbol, h - qty);
            longTrades.push({ ...trade, executedAt: at(20_000 + batch * 200 + i) });
          } else {
            held.set(symbol, h + qty);
            longTrades.push({ ...trade, side: 'buy', executedAt: at(-(batch * 200 + i)) });
          }
        }
        expect((await bulk(traderB.tokens, id, shortTrades)).status).toBe(201);
        expect((await bulk(traderA.tokens, longOnly, longTrades)).status).toBe(201);
      }
      await t.http
        .post('/api/v1/prices/bulk')
        .set(bearer(manager.tokens))
        .send({ prices: symbols.map((symbol, i) => ({ symbol, price: `${50 + i}.5`, asOf: at(30_000) })) })
        .expect(201);

      const positionsService = t.app.get(PositionsService);
      const portfoliosService = t.app.get(PortfoliosService);
      for (const [portfolioId, owner] of [
        [id, traderB],
        [longOnly, traderA],
      ] as const) {
        const portfolio = await portfoliosService.requireAccess(
          { userId: owner.id, email: owner.email, roles: ['trader'], permissions: new Set() },
          portfolioId,
        );
        const maintained = await positionsService.maintained(portfolioId);
        const recomputed = await positionsService.replay(portfolio);
        const strings = (m: typeof maintained) =>
          Object.fromEntries(
            [...m].map(([s, p]) => [
              s,
              {
                quantity: p.quantity.toFixed(),
                costBasis: p.costBasis.toFixed(),
                realisedPnl: p.realisedPnl.toFixed(),
                fees: p.fees.toFixed(),
                tradeCount: p.tradeCount,
                lastExecutedAt: p.lastExecutedAt?.toISOString(),
              },
            ]),
          );
        expect(strings(maintained)).toEqual(strings(recomputed));
        expect(maintained.size).toBe(4);
        // Through the API: `asOf` (maintained positions for symbols not traded since, replay for the
        // others) equals a full replay up to that moment, for a moment in the middle and one after all.
        for (const moment of [at(5_000), at(40_000)]) {
          const viaApi = await t.http
            .get(`/api/v1/portfolios/${portfolioId}/positions?asOf=${moment}`)
            .set(bearer(owner.tokens));
          const full = await positionsService.replay(portfolio, new Date(moment));
          expect(
            viaApi.body.positions.map((p: Record<string, unknown>) => [
              p.symbol,
              p.quantity,
              p.costBasis,
              p.realisedPnl,
            ]),
          ).toEqual(
            [...full]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([symbol, p]) => [
                symbol,
                formatDecimal(p.quantity),
                formatDecimal(p.costBasis),
                formatDecimal(p.realisedPnl),
              ]),
          );
        }
        // And the maintained read equals the replay read after every trade.
        const now = await t.http.get(`/api/v1/portfolios/${portfolioId}/positions`).set(bearer(owner.tokens));
        const after = await t.http
          .get(`/api/v1/portfolios/${portfolioId}/positions?asOf=${at(40_000)}`)
          .set(bearer(owner.tokens));
        expect(now.body.positions).toEqual(after.body.positions);
      }
      // A sell inserted before the trades that bought what it sells is refused: it would oversell then.
      const early = await bulk(traderA.tokens, longOnly, [
        { symbol: 'R1', side: 'sell', quantity: '0.001', price: '1', executedAt: at(-100_000) },
      ]);
      expect(early.status).toBe(409);
      expect(early.body.errors[0].field).toBe('trades.0.quantity');
    });
  });

  describe('prices and events', () => {
    it('publishes prices (prices:write only), emits events, and revalues holders', async () => {
      const emitter = t.app.get(EventEmitter2);
      const seen: { name: string; payload: unknown }[] = [];
      const listeners = Object.values(TradingEvents).map((name) => {
        const fn = (payload: unknown): void => {
          seen.push({ name, payload });
        };
        emitter.on(name, fn);
        return [name, fn] as const;
      });
      try {
        const id = await createPortfolio(traderA.tokens, { name: 'Events', baseCurrency: 'USD' });
        await bulk(traderA.tokens, id, [
          { symbol: 'EVT', side: 'buy', quantity: '2', price: '10', executedAt: at(1), externalId: 'E-1' },
          { symbol: 'EVX', side: 'buy', quantity: '1', price: '10', executedAt: at(2), externalId: 'E-2' },
        ]).expect(201);
        const created = seen.find((e) => e.name === TradingEvents.TradeCreated)?.payload as TradeCreatedEvent;
        expect(created).toMatchObject({
          portfolioId: id,
          ownerId: traderA.id,
          count: 2,
          symbols: ['EVT', 'EVX'],
          truncated: false,
          recordedBy: traderA.id,
        });
        expect(created.trades.map((x) => x.externalId)).toEqual(['E-1', 'E-2']);
        expect(seen.filter((e) => e.name === TradingEvents.PortfolioRevalued)).toHaveLength(1);

        // Traders may not publish prices.
        const denied = await t.http
          .post('/api/v1/prices')
          .set(bearer(traderA.tokens))
          .send({ symbol: 'EVT', price: '11', asOf: at(5) });
        expect(denied.status).toBe(403);

        seen.length = 0;
        const res = await t.http
          .post('/api/v1/prices/bulk')
          .set(bearer(manager.tokens))
          .send({
            prices: [
              { symbol: 'EVT', price: '11', asOf: at(5) },
              { symbol: 'EVT', price: '10.5', asOf: at(4) },
              { symbol: 'NEW1', price: '1', asOf: at(4) },
            ],
          });
        expect(res.status).toBe(201);
        expect(res.body).toEqual({
          received: 3,
          latest: [
            { symbol: 'EVT', price: '11', asOf: at(5), createdBy: manager.id },
            { symbol: 'NEW1', price: '1', asOf: at(4), createdBy: manager.id },
          ],
        });
        const priced = seen.find((e) => e.name === TradingEvents.PriceUpdated)?.payload as PriceUpdatedEvent;
        expect(priced.count).toBe(3);
        const revalued = seen
          .filter((e) => e.name === TradingEvents.PortfolioRevalued)
          .map((e) => e.payload as PortfolioRevaluedEvent);
        expect(revalued).toEqual([expect.objectContaining({ portfolioId: id, reason: 'prices', symbols: ['EVT'] })]);

        // An older price does not revalue anyone; the same (symbol, asOf) replaces the price.
        seen.length = 0;
        await t.http
          .post('/api/v1/prices')
          .set(bearer(manager.tokens))
          .send({ symbol: 'EVT', price: '10.75', asOf: at(4) })
          .expect(201);
        expect(seen.filter((e) => e.name === TradingEvents.PortfolioRevalued)).toEqual([]);
        const dup = await t.http
          .post('/api/v1/prices/bulk')
          .set(bearer(manager.tokens))
          .send({
            prices: [
              { symbol: 'EVT', price: '1', asOf: at(9) },
              { symbol: 'evt', price: '2', asOf: at(9) },
            ],
          });
        expect(dup.status).toBe(400);
        expect(dup.body.errors[0].field).toBe('prices.1.asOf');

        const positions = await t.http.get(`/api/v1/portfolios/${id}/positions`).set(bearer(traderA.tokens));
        expect(
          positions.body.positions.map((p: { symbol: string; price: string | null }) => [p.symbol, p.price]),
        ).toEqual([
          ['EVT', '11'],
          ['EVX', null],
        ]);
        expect(positions.body.totals).toMatchObject({ marketValue: '22', unpricedSymbols: ['EVX'] });
      } finally {
        for (const [name, fn] of listeners) emitter.off(name, fn);
      }
    });
  });
});
