import { EventEmitter2 } from '@nestjs/event-emitter';
import { TradingEvents, type PortfolioUpdatedEvent } from '../../../src/trading/trading.events';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * PATCH and archive (DELETE) of portfolios, with ETag / If-None-Match / If-Match, tried as an
 * owner, a reader of a shared portfolio, a stranger, a role without the permission, and a client
 * holding a stale tag.
 */
describe('trading: portfolio update and archive', () => {
  let t: TestApp;
  let root: Tokens;
  let owner: User;
  let stranger: User;
  let reader: User;
  let viewer: User;

  const create = async (who: Tokens, name: string): Promise<string> => {
    const res = await t.http.post('/api/v1/portfolios').set(bearer(who)).send({ name, baseCurrency: 'USD' });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const read = (who: Tokens, id: string) => t.http.get(`/api/v1/portfolios/${id}`).set(bearer(who));
  const auditCount = async (action: string, targetId: string): Promise<number> => {
    const res = await t.http.get('/api/v1/audit-events').query({ action, targetId, limit: 100 }).set(bearer(root));
    expect(res.status).toBe(200);
    return (res.body.items as unknown[]).length;
  };
  const listNames = async (who: Tokens, query: Record<string, string> = {}): Promise<string[]> => {
    const res = await t.http
      .get('/api/v1/portfolios')
      .query({ limit: 200, ...query })
      .set(bearer(who));
    expect(res.status).toBe(200);
    return (res.body.items as { name: string }[]).map((p) => p.name);
  };
  const trade = (executedAt: string) => ({ symbol: 'ARC', side: 'buy', quantity: '2', price: '10', executedAt });

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [owner, stranger, reader, viewer] = await Promise.all([
      createUser(t, root, ['trader']),
      createUser(t, root, ['trader']),
      createUser(t, root, ['trader']),
      createUser(t, root, ['viewer']),
    ]);
  });
  afterAll(() => t?.close());

  it('answers a strong ETag on GET and 304 to If-None-Match until the portfolio changes', async () => {
    const id = await create(owner.tokens, 'Tagged book');
    const first = await read(owner.tokens, id);
    expect(first.status).toBe(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const again = await read(owner.tokens, id).set('If-None-Match', etag);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');

    const patched = await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .set('If-Match', etag)
      .send({ name: 'Tagged book (renamed)', description: 'For the ETag test' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Tagged book (renamed)', description: 'For the ETag test' });
    expect(patched.headers.etag).toBeDefined();
    expect(patched.headers.etag).not.toBe(etag);

    const changed = await read(owner.tokens, id).set('If-None-Match', etag);
    expect(changed.status).toBe(200);
    expect(changed.body.name).toBe('Tagged book (renamed)');
    expect(changed.headers.etag).toBe(patched.headers.etag);
    expect(await auditCount('portfolio.updated', id)).toBe(1);
  });

  it('refuses a stale If-Match with 412 problem+json and changes nothing', async () => {
    const id = await create(owner.tokens, 'Contested book');
    const stale = (await read(owner.tokens, id)).headers.etag;
    // Someone else (the same owner, from another tab) changes it first.
    await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .send({ name: 'Contested: tab 1' })
      .expect(200);
    const before = await read(owner.tokens, id);

    const res = await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .set('If-Match', stale)
      .send({ name: 'Contested: tab 2' });
    expect(res.status).toBe(412);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 412, code: 'PRECONDITION_FAILED' });

    const weak = await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .set('If-Match', `W/${before.headers.etag}`)
      .send({ name: 'Contested: weak tag' });
    expect(weak.status).toBe(412); // If-Match compares strongly: a weak tag never matches

    const archive = await t.http.delete(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).set('If-Match', stale);
    expect(archive.status).toBe(412);

    const after = await read(owner.tokens, id);
    expect(after.body).toEqual(before.body);
    expect(after.body.archivedAt).toBeNull();
    expect(await auditCount('portfolio.updated', id)).toBe(1);
    expect(await auditCount('portfolio.archived', id)).toBe(0);

    // `*` matches any existing portfolio; the current tag matches.
    await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .set('If-Match', '*')
      .send({ description: 'star' })
      .expect(200);
    const current = (await read(owner.tokens, id)).headers.etag;
    await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .set('If-Match', `"nope", ${current}`)
      .send({ description: 'listed' })
      .expect(200);
  });

  it('lets exactly one of two concurrent writers holding the same tag win', async () => {
    const id = await create(owner.tokens, 'Raced book');
    const etag = (await read(owner.tokens, id)).headers.etag;
    const results = await Promise.all(
      ['Raced: A', 'Raced: B'].map((name) =>
        t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).set('If-Match', etag).send({ name }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = results.find((r) => r.status === 200)!;
    expect((await read(owner.tokens, id)).body.name).toBe(winner.body.name);
    expect(await auditCount('portfolio.updated', id)).toBe(1);
  });

  it("gives 404 for another user's portfolio, 403 to a reader of a shared one and to a role without portfolios:update", async () => {
    const id = await create(owner.tokens, 'Guarded book');
    const group = await t.http.post('/api/v1/groups').set(bearer(root)).send({ name: 'Readers of the guarded book' });
    expect(group.status).toBe(201);
    await t.http.put(`/api/v1/groups/${group.body.id}/members/${reader.id}`).set(bearer(root)).expect(204);
    await t.http.put(`/api/v1/portfolios/${id}/shares/${group.body.id}`).set(bearer(owner.tokens)).send({}).expect(204);
    const before = await read(owner.tokens, id);

    for (const req of [
      () => t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(stranger.tokens)).send({ name: 'Mine now' }),
      () => t.http.delete(`/api/v1/portfolios/${id}`).set(bearer(stranger.tokens)),
    ]) {
      const res = await req();
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('NOT_FOUND');
    }
    const missing = await t.http
      .patch('/api/v1/portfolios/00000000-0000-4000-8000-000000000000')
      .set(bearer(owner.tokens))
      .send({ name: 'x' });
    expect(missing.status).toBe(404);

    const sharedPatch = await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(reader.tokens))
      .send({ name: 'Reader' });
    expect(sharedPatch.status).toBe(403);
    const sharedArchive = await t.http.delete(`/api/v1/portfolios/${id}`).set(bearer(reader.tokens));
    expect(sharedArchive.status).toBe(403);

    // The viewer role has no portfolios:update; even the super_admin does not own this book.
    const byViewer = await t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(viewer.tokens)).send({ name: 'V' });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.code).toBe('FORBIDDEN');
    const byRoot = await t.http.delete(`/api/v1/portfolios/${id}`).set(bearer(root));
    expect(byRoot.status).toBe(403);

    const unauthenticated = await t.http.patch(`/api/v1/portfolios/${id}`).send({ name: 'anon' });
    expect(unauthenticated.status).toBe(401);

    expect((await read(owner.tokens, id)).body).toEqual(before.body);
  });

  it('refuses malformed bodies and headers with 400, naming the field, and changes nothing', async () => {
    const id = await create(owner.tokens, 'Strict book');
    const before = await read(owner.tokens, id);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 42 }, 'name'],
      [{ description: 'd'.repeat(501) }, 'description'],
      [{ baseCurrency: 'dollars' }, 'baseCurrency'],
      [{ ownerId: stranger.id }, 'ownerId'],
      [{ archivedAt: null }, 'archivedAt'],
    ];
    for (const [body, field] of cases) {
      const res = await t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).send(body);
      expect(res.status).toBe(400);
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    }
    const badTag = await t.http
      .patch(`/api/v1/portfolios/${id}`)
      .set(bearer(owner.tokens))
      .set('If-Match', 'not-quoted')
      .send({ name: 'ok' });
    expect(badTag.status).toBe(400);
    expect(badTag.body.errors[0].field).toBe('If-Match');
    const badId = await t.http.patch('/api/v1/portfolios/not-a-uuid').set(bearer(owner.tokens)).send({ name: 'ok' });
    expect(badId.status).toBe(400);
    const badFilter = await t.http
      .get('/api/v1/portfolios')
      .query({ includeArchived: 'maybe' })
      .set(bearer(owner.tokens));
    expect(badFilter.status).toBe(400);

    expect((await read(owner.tokens, id)).body).toEqual(before.body);
    expect(await auditCount('portfolio.updated', id)).toBe(0);
  });

  it('changes the base currency only while there are no trades', async () => {
    const id = await create(owner.tokens, 'Currency book');
    const eur = await t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).send({ baseCurrency: 'eur' });
    expect(eur.status).toBe(200);
    expect(eur.body.baseCurrency).toBe('EUR');
    await t.http
      .post(`/api/v1/portfolios/${id}/trades`)
      .set(bearer(owner.tokens))
      .send(trade('2026-03-02T10:00:00Z'))
      .expect(201);
    const gbp = await t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).send({ baseCurrency: 'GBP' });
    expect(gbp.status).toBe(409);
    expect(gbp.body.errors[0].field).toBe('baseCurrency');
    expect((await read(owner.tokens, id)).body.baseCurrency).toBe('EUR');
  });

  it('archives: kept with its trades, hidden from lists unless asked, refuses new trades with 409', async () => {
    const id = await create(owner.tokens, 'Archived book');
    await t.http
      .post(`/api/v1/portfolios/${id}/trades`)
      .set(bearer(owner.tokens))
      .send(trade('2026-03-02T11:00:00Z'))
      .expect(201);
    const events: PortfolioUpdatedEvent[] = [];
    const emitter = t.app.get(EventEmitter2);
    const listener = (e: PortfolioUpdatedEvent) => {
      if (e.portfolioId === id) events.push(e);
    };
    emitter.on(TradingEvents.PortfolioUpdated, listener);
    const etag = (await read(owner.tokens, id)).headers.etag;

    const res = await t.http.delete(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).set('If-Match', etag);
    expect(res.status).toBe(204);
    emitter.off(TradingEvents.PortfolioUpdated, listener);
    expect(events).toEqual([expect.objectContaining({ change: 'archived', ownerId: owner.id })]);
    expect(await auditCount('portfolio.archived', id)).toBe(1);

    const archived = await read(owner.tokens, id);
    expect(archived.status).toBe(200);
    expect(archived.body.archivedAt).toEqual(expect.any(String));

    expect(await listNames(owner.tokens)).not.toContain('Archived book');
    expect(await listNames(owner.tokens, { includeArchived: 'true' })).toContain('Archived book');
    expect(await listNames(owner.tokens, { includeArchived: 'false' })).not.toContain('Archived book');

    const single = await t.http
      .post(`/api/v1/portfolios/${id}/trades`)
      .set(bearer(owner.tokens))
      .send(trade('2026-03-02T12:00:00Z'));
    expect(single.status).toBe(409);
    expect(single.body.code).toBe('PORTFOLIO_ARCHIVED');
    const bulk = await t.http
      .post(`/api/v1/portfolios/${id}/trades/bulk`)
      .set(bearer(owner.tokens))
      .send({ trades: [trade('2026-03-02T12:00:00Z')] });
    expect(bulk.status).toBe(409);
    expect(bulk.body.code).toBe('PORTFOLIO_ARCHIVED');

    const trades = await t.http.get(`/api/v1/portfolios/${id}/trades`).set(bearer(owner.tokens));
    expect(trades.status).toBe(200);
    expect(trades.body.items).toHaveLength(1);
    const positions = await t.http.get(`/api/v1/portfolios/${id}/positions`).set(bearer(owner.tokens));
    expect(positions.status).toBe(200);
    expect(positions.body.positions[0]).toMatchObject({ symbol: 'ARC', quantity: '2' });

    const rename = await t.http.patch(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).send({ name: 'Revived' });
    expect(rename.status).toBe(409);
    expect(rename.body.code).toBe('PORTFOLIO_ARCHIVED');

    // Archiving again changes nothing.
    await t.http.delete(`/api/v1/portfolios/${id}`).set(bearer(owner.tokens)).expect(204);
    expect(await auditCount('portfolio.archived', id)).toBe(1);
    expect((await read(owner.tokens, id)).body.archivedAt).toBe(archived.body.archivedAt);
  });
});
