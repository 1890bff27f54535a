import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * Trades and prices are owned actions: recording trades needs the portfolio's ownership, a write
 * share, or `trades:write-any`; seeing every portfolio is read-only. Every write records who made
 * it, and creation, sharing, trades and prices are audited.
 */
describe('trading: owned writes, createdBy and audit', () => {
  let t: TestApp;
  let root: Tokens;
  let owner: User;
  let deskTrader: User;
  let manager: User;
  let portfolio: string;
  let group: string;

  const trade = (n: number) => ({
    symbol: 'OWN',
    side: 'buy',
    quantity: '1',
    price: '10',
    executedAt: new Date(Date.UTC(2026, 2, 1, 10, n)).toISOString(),
  });
  const record = (tokens: Tokens, id: string, n: number) =>
    t.http.post(`/api/v1/portfolios/${id}/trades`).set(bearer(tokens)).send(trade(n));
  const auditOf = async (action: string, targetId?: string) => {
    const res = await t.http
      .get('/api/v1/audit-events')
      .query({ action, ...(targetId ? { targetId } : {}), limit: 100 })
      .set(bearer(root));
    expect(res.status).toBe(200);
    return res.body.items as { actorId: string; details: Record<string, unknown>; outcome: string }[];
  };

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [owner, deskTrader, manager] = await Promise.all([
      createUser(t, root, ['trader']),
      createUser(t, root, ['trader']),
      createUser(t, root, ['manager']),
    ]);
    const created = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(owner.tokens))
      .send({ name: 'Owned book', baseCurrency: 'USD' });
    expect(created.status).toBe(201);
    portfolio = created.body.id;
    const g = await t.http.post('/api/v1/groups').set(bearer(root)).send({ name: 'Desk' });
    expect(g.status).toBe(201);
    group = g.body.id;
    await t.http.put(`/api/v1/groups/${group}/members/${deskTrader.id}`).set(bearer(root)).expect(204);
  });
  afterAll(() => t?.close());

  it('audits portfolio creation', async () => {
    const entries = await auditOf('portfolio.created', portfolio);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actorId: owner.id,
      details: { name: 'Owned book', baseCurrency: 'USD', allowShort: false },
    });
  });

  it('keeps portfolios:read-all read-only: a manager sees but cannot record into another trader’s portfolio', async () => {
    expect((await t.http.get(`/api/v1/portfolios/${portfolio}`).set(bearer(manager.tokens))).status).toBe(200);
    const res = await record(manager.tokens, portfolio, 0);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    const bulk = await t.http
      .post(`/api/v1/portfolios/${portfolio}/trades/bulk`)
      .set(bearer(manager.tokens))
      .send({ trades: [trade(1)] });
    expect(bulk.status).toBe(403);
    const denied = await t.http
      .get('/api/v1/audit-events')
      .query({ action: 'trades.recorded', targetId: portfolio, outcome: 'denied' })
      .set(bearer(root));
    expect(denied.body.items.map((e: { actorId: string; details: unknown }) => [e.actorId, e.details])).toEqual([
      [manager.id, { shape: 'bulk', received: 1, reason: 'not_owner_nor_write_share' }],
      [manager.id, { shape: 'single', received: 1, reason: 'not_owner_nor_write_share' }],
    ]);
    // A trader who cannot see it at all gets 404, as before.
    expect((await record(deskTrader.tokens, portfolio, 0)).status).toBe(404);
    const trades = await t.http.get(`/api/v1/portfolios/${portfolio}/trades`).set(bearer(owner.tokens));
    expect(trades.body.items).toHaveLength(0);
  });

  it('lets a read share see and a write share record; the owner chooses and it is audited', async () => {
    await t.http.put(`/api/v1/portfolios/${portfolio}/shares/${group}`).set(bearer(owner.tokens)).expect(204);
    const seen = await t.http.get(`/api/v1/portfolios/${portfolio}`).set(bearer(deskTrader.tokens));
    expect(seen.status).toBe(200);
    expect(seen.body.shares).toEqual([{ groupId: group, access: 'read' }]);
    expect((await record(deskTrader.tokens, portfolio, 2)).status).toBe(403);

    // Only the owner upgrades a share.
    const notOwner = await t.http
      .put(`/api/v1/portfolios/${portfolio}/shares/${group}`)
      .set(bearer(deskTrader.tokens))
      .send({ access: 'write' });
    expect(notOwner.status).toBe(403);
    const bad = await t.http
      .put(`/api/v1/portfolios/${portfolio}/shares/${group}`)
      .set(bearer(owner.tokens))
      .send({ access: 'admin' });
    expect(bad.status).toBe(400);
    await t.http
      .put(`/api/v1/portfolios/${portfolio}/shares/${group}`)
      .set(bearer(owner.tokens))
      .send({ access: 'write' })
      .expect(204);

    const res = await record(deskTrader.tokens, portfolio, 3);
    expect(res.status).toBe(201);
    expect(res.body.createdBy).toBe(deskTrader.id);

    const shared = await auditOf('portfolio.shared', portfolio);
    expect(shared.map((e) => e.details)).toEqual([
      { groupId: group, access: 'write', previousAccess: 'read' },
      { groupId: group, access: 'read' },
    ]);
  });

  it('records who made each trade, in answers and lists, and audits one entry per request with counts', async () => {
    const mine = await record(owner.tokens, portfolio, 4);
    expect(mine.status).toBe(201);
    expect(mine.body.createdBy).toBe(owner.id);
    const bulk = await t.http
      .post(`/api/v1/portfolios/${portfolio}/trades/bulk`)
      .set(bearer(owner.tokens))
      .send({ trades: [trade(5), trade(6), { ...trade(7), externalId: 'x-7' }] });
    expect(bulk.status).toBe(201);
    const again = await t.http
      .post(`/api/v1/portfolios/${portfolio}/trades/bulk`)
      .set(bearer(owner.tokens))
      .send({ trades: [{ ...trade(7), externalId: 'x-7' }, trade(8)] });
    expect(again.status).toBe(201);

    // super_admin holds trades:write-any.
    const byRoot = await record(root, portfolio, 9);
    expect(byRoot.status).toBe(201);
    const me = await t.http.get('/api/v1/me').set(bearer(root));

    const list = await t.http.get(`/api/v1/portfolios/${portfolio}/trades`).set(bearer(owner.tokens));
    const byWho = list.body.items.map((x: { createdBy: string }) => x.createdBy);
    expect(byWho).toHaveLength(7);
    expect(byWho.filter((id: string) => id === owner.id)).toHaveLength(5);
    expect(byWho.filter((id: string) => id === deskTrader.id)).toHaveLength(1);
    expect(byWho.filter((id: string) => id === me.body.id)).toHaveLength(1);

    const entries = (await auditOf('trades.recorded', portfolio)).filter((e) => e.outcome === 'success');
    expect(entries).toHaveLength(5); // one per request: desk, single, bulk, bulk with a duplicate, root
    expect(entries.map((e) => [e.actorId, e.details.received, e.details.created, e.details.duplicates])).toEqual([
      [me.body.id, 1, 1, 0],
      [owner.id, 2, 1, 1],
      [owner.id, 3, 3, 0],
      [owner.id, 1, 1, 0],
      [deskTrader.id, 1, 1, 0],
    ]);
    expect(entries[2].details).toMatchObject({ shape: 'bulk', symbols: ['OWN'] });
  });

  it('records who published prices, and audits each request', async () => {
    const one = await t.http
      .post('/api/v1/prices')
      .set(bearer(manager.tokens))
      .send({ symbol: 'OWN', price: '11', asOf: '2026-03-02T16:00:00Z' });
    expect(one.status).toBe(201);
    expect(one.body.createdBy).toBe(manager.id);
    const bulk = await t.http
      .post('/api/v1/prices/bulk')
      .set(bearer(root))
      .send({
        prices: [
          { symbol: 'OWN', price: '12', asOf: '2026-03-03T16:00:00Z' },
          { symbol: 'OTHER', price: '5', asOf: '2026-03-03T16:00:00Z' },
        ],
      });
    expect(bulk.status).toBe(201);
    const rootId = (await t.http.get('/api/v1/me').set(bearer(root))).body.id;
    expect(bulk.body.latest).toEqual([
      { symbol: 'OTHER', price: '5', asOf: '2026-03-03T16:00:00.000Z', createdBy: rootId },
      { symbol: 'OWN', price: '12', asOf: '2026-03-03T16:00:00.000Z', createdBy: rootId },
    ]);
    const entries = await auditOf('prices.published');
    expect(entries.map((e) => [e.actorId, e.details.count, e.details.symbols])).toEqual([
      [rootId, 2, ['OTHER', 'OWN']],
      [manager.id, 1, ['OWN']],
    ]);
    const verify = await t.http.get('/api/v1/audit-events/verify').set(bearer(root));
    expect(verify.body.valid).toBe(true);
  });
});
