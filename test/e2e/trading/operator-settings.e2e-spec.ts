import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * An app with operator settings: v1 marked deprecated (v1 answers say so, v2 answers do not), and
 * the largest bulk (10,000 trades are about 1.4 MB of JSON: over BODY_LIMIT, within BULK_BODY_LIMIT).
 */
describe('trading under operator settings: deprecated v1, bulk of 10,000', () => {
  let t: TestApp;
  let root: Tokens;

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      DEPRECATED_API_VERSIONS: '1=2026-01-01/2027-06-30',
      API_MIGRATION_NOTES_URL: 'https://docs.example.com/migrate/v{version}',
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t?.close());

  it('answers v1 with Deprecation (RFC 9745), Sunset (RFC 8594) and a Link to the migration notes', async () => {
    const created = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(root))
      .send({ name: 'Deprecation', baseCurrency: 'USD' });
    expect(created.status).toBe(201);
    const v1 = await t.http.get(`/api/v1/portfolios/${created.body.id}`).set(bearer(root));
    expect(v1.status).toBe(200);
    expect(v1.headers.deprecation).toBe(`@${Date.UTC(2026, 0, 1) / 1000}`);
    expect(v1.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
    expect(v1.headers.link).toBe('<https://docs.example.com/migrate/v1>; rel="deprecation"; type="text/html"');

    // Error answers of a v1 route carry them too.
    const missing = await t.http.get('/api/v1/portfolios/00000000-0000-4000-8000-000000000000').set(bearer(root));
    expect(missing.status).toBe(404);
    expect(missing.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
    // So do the guard's refusals: a client learns of the sunset even with an expired token.
    const anonymous = await t.http.get(`/api/v1/portfolios/${created.body.id}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');

    const v2 = await t.http.get(`/api/v2/portfolios/${created.body.id}`).set(bearer(root));
    expect(v2.status).toBe(200);
    expect(v2.headers.deprecation).toBeUndefined();
    expect(v2.headers.sunset).toBeUndefined();
    expect(v2.headers.link).toBeUndefined();

    // The OpenAPI document flags v1 operations deprecated, and v2 ones not.
    const doc = (await t.http.get('/docs-json')).body as {
      paths: Record<string, Record<string, { deprecated?: boolean }>>;
    };
    expect(doc.paths['/api/v1/portfolios/{id}'].get.deprecated).toBe(true);
    expect(doc.paths['/api/v2/portfolios/{id}'].get.deprecated).toBeUndefined();

    // Probes are not versioned resources.
    const live = await t.http.get('/health/live');
    expect(live.headers.deprecation).toBeUndefined();
  });

  it('takes a bulk of 10,000 trades in one request, all or nothing', async () => {
    const created = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(root))
      .send({ name: 'Ten thousand', baseCurrency: 'USD' });
    const trades = Array.from({ length: 10_000 }, (_, i) => ({
      symbol: `T${i % 25}`,
      side: 'buy',
      quantity: `${(i % 9) + 1}`,
      price: `${200 + (i % 50)}.125`,
      fees: '0.35',
      executedAt: new Date(Date.UTC(2026, 0, 5) + i * 1000).toISOString(),
      externalId: `TEN-${i}`,
    }));
    const body = JSON.stringify({ trades });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024); // over the default BODY_LIMIT
    const res = await t.http
      .post(`/api/v1/portfolios/${created.body.id}/trades/bulk`)
      .set(bearer(root))
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(201);
    expect(res.body.created).toBe(10_000);
    const positions = await t.http.get(`/api/v1/portfolios/${created.body.id}/positions`).set(bearer(root));
    expect(positions.body.positions).toHaveLength(25);
    expect(positions.body.positions.reduce((n: number, p: { tradeCount: number }) => n + p.tradeCount, 0)).toBe(10_000);
    // 10,001 is refused by count.
    const tooMany = await t.http
      .post(`/api/v1/portfolios/${created.body.id}/trades/bulk`)
      .set(bearer(root))
      .send({ trades: [...trades, trades[0]] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([{ field: 'trades', message: expect.stringContaining('10000') }]);
  });
});
