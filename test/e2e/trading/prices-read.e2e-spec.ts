import { DataSource } from 'typeorm';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * Reading prices (latest and keyset-paginated history of a symbol), and `Idempotency-Key` on bulk
 * price ingestion, through the same `@Idempotent()` interceptor as trades.
 */
describe('trading: price reads and idempotent bulk prices', () => {
  let t: TestApp;
  let root: Tokens;
  let publisher: User;
  let viewer: User;
  let nobody: User;

  const at = (day: number) => new Date(Date.UTC(2026, 2, day, 16)).toISOString();
  const publish = (prices: { symbol: string; price: string; asOf: string }[], key?: string) => {
    const req = t.http.post('/api/v1/prices/bulk').set(bearer(publisher.tokens));
    if (key) req.set('Idempotency-Key', key);
    return req.send({ prices });
  };
  const storedCount = async (symbol: string): Promise<number> => {
    const [row] = await t.app
      .get(DataSource)
      .query<{ n: number }[]>('SELECT count(*)::int AS n FROM prices WHERE symbol = $1', [symbol]);
    return row.n;
  };

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [publisher, viewer, nobody] = await Promise.all([
      createUser(t, root, ['manager']),
      createUser(t, root, ['viewer']),
      createUser(t, root, []),
    ]);
    const res = await publish([1, 2, 3, 4, 5].map((d) => ({ symbol: 'HIST', price: `${100 + d}.5`, asOf: at(d) })));
    expect(res.status).toBe(201);
  });
  afterAll(() => t?.close());

  it('answers the latest price of a symbol to prices:read, case-insensitively', async () => {
    const res = await t.http.get('/api/v1/prices/hist').set(bearer(viewer.tokens));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ symbol: 'HIST', price: '105.5', asOf: at(5), createdBy: publisher.id });
  });

  it('pages the history newest first with from/to, and refuses a forged cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await t.http
        .get('/api/v1/prices/HIST/history')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(viewer.tokens));
      expect(res.status).toBe(200);
      seen.push(...(res.body.items as { asOf: string }[]).map((p) => p.asOf));
      cursor = res.body.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([5, 4, 3, 2, 1].map(at));

    const ranged = await t.http
      .get('/api/v1/prices/HIST/history')
      .query({ from: at(2), to: at(4) })
      .set(bearer(viewer.tokens));
    expect(ranged.status).toBe(200);
    expect((ranged.body.items as { price: string }[]).map((p) => p.price)).toEqual(['104.5', '103.5', '102.5']);
    expect(ranged.body.nextCursor).toBeNull();

    const forged = await t.http
      .get('/api/v1/prices/HIST/history')
      .query({ cursor: Buffer.from('{"k":"1; DROP TABLE prices","id":"x"}').toString('base64url') })
      .set(bearer(viewer.tokens));
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe('INVALID_CURSOR');
    expect(await storedCount('HIST')).toBe(5);
  });

  it('refuses bad symbols and filters with 400, unknown symbols with 404, other roles with 403', async () => {
    const badSymbol = await t.http.get(`/api/v1/prices/${encodeURIComponent('*bad*')}`).set(bearer(viewer.tokens));
    expect(badSymbol.status).toBe(400);
    expect(badSymbol.body.errors[0].field).toBe('symbol');
    const badFrom = await t.http
      .get('/api/v1/prices/HIST/history')
      .query({ from: 'yesterday' })
      .set(bearer(viewer.tokens));
    expect(badFrom.status).toBe(400);
    expect(badFrom.body.errors[0].field).toBe('from');
    const badLimit = await t.http.get('/api/v1/prices/HIST/history').query({ limit: 0 }).set(bearer(viewer.tokens));
    expect(badLimit.status).toBe(400);

    expect((await t.http.get('/api/v1/prices/NOPE').set(bearer(viewer.tokens))).status).toBe(404);
    expect((await t.http.get('/api/v1/prices/NOPE/history').set(bearer(viewer.tokens))).status).toBe(404);

    const forbidden = await t.http.get('/api/v1/prices/HIST').set(bearer(nobody.tokens));
    expect(forbidden.status).toBe(403);
    expect((await t.http.get('/api/v1/prices/HIST')).status).toBe(401);
    // Reading is not publishing.
    const write = await t.http
      .post('/api/v1/prices/bulk')
      .set(bearer(viewer.tokens))
      .send({ prices: [{ symbol: 'HIST', price: '1', asOf: at(6) }] });
    expect(write.status).toBe(403);
    expect(await storedCount('HIST')).toBe(5);
  });

  it('replays a keyed bulk of prices once stored, and refuses the key for another body with 422', async () => {
    const prices = [
      { symbol: 'IDEM', price: '10', asOf: at(1) },
      { symbol: 'IDEM', price: '11', asOf: at(2) },
    ];
    const first = await publish(prices, 'prices-batch-1');
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(first.body).toMatchObject({ received: 2, latest: [{ symbol: 'IDEM', price: '11' }] });

    // A correction published meanwhile must not be overwritten by the retry.
    await t.http
      .post('/api/v1/prices')
      .set(bearer(publisher.tokens))
      .send({ symbol: 'IDEM', price: '12', asOf: at(2) })
      .expect(201);

    const retry = await publish(prices, 'prices-batch-1');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await t.http.get('/api/v1/prices/IDEM').set(bearer(viewer.tokens))).body.price).toBe('12');

    const other = await publish([{ symbol: 'IDEM', price: '99', asOf: at(3) }], 'prices-batch-1');
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await storedCount('IDEM')).toBe(2);

    const badKey = await publish(prices, 'k'.repeat(256));
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors[0].field).toBe('Idempotency-Key');
  });
});
