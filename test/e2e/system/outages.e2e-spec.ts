import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '../../../src/common/http/public.decorator';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login, type Tokens } from '../support/auth';
import {
  type OwnPostgres,
  type OwnRedis,
  postgresBinDir,
  redisServerAvailable,
  startOwnPostgres,
  startOwnRedis,
  waitUntil,
} from '../support/own-services';
import { startTestApp, type TestApp } from '../support/test-app';

/** A genuine defect, to prove that only outages become 503. */
@Public()
@Controller({ path: 'test-defect', version: '1' })
class DefectController {
  @Get()
  fail(): never {
    const missing = undefined as unknown as { id: string };
    return missing.id as never;
  }
}

@Module({ controllers: [DefectController] })
class DefectModule {}

const available = postgresBinDir() !== undefined && redisServerAvailable();
const describeWithServers = available ? describe : describe.skip;
if (!available) console.warn('outages.e2e-spec skipped: needs PostgreSQL server binaries (initdb) and redis-server');

/**
 * Real outages: a PostgreSQL cluster and a Redis of this spec's own (created with initdb and
 * redis-server on free ports), stopped and started under a running application.
 */
describeWithServers('outages of PostgreSQL and Redis', () => {
  let pg: OwnPostgres;
  let redis: OwnRedis;
  let t: TestApp;
  let admin: Tokens;
  let portfolio: string;

  beforeAll(async () => {
    pg = await startOwnPostgres();
    redis = await startOwnRedis();
    t = await startTestApp(
      { ...BOOTSTRAP_ENV, REDIS_URL: redis.url },
      { databaseServerUrl: pg.url, imports: [DefectModule] },
    );
    admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const res = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(admin))
      .send({ name: 'Outage', baseCurrency: 'USD' });
    expect(res.status).toBe(201);
    portfolio = res.body.id as string;
  }, 120_000);

  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await redis?.stop();
    pg?.destroy();
  });

  const ready = () => t.http.get('/health/ready');
  const leaks = (text: string): boolean =>
    text.includes(String(pg.port)) ||
    text.includes(String(redis.port)) ||
    /ECONNREFUSED|127\.0\.0\.1|ioredis|pg-pool|terminating/.test(text);

  it('keeps serving with Redis down: in-process rate limits, readiness degraded, and back when it returns', async () => {
    expect((await ready()).body).toEqual({ status: 'ok' });
    await redis.stop();
    await waitUntil(async () => (await ready()).body.status === 'degraded', 10_000, 'readiness degraded');

    const anonymous = await ready();
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'degraded', degraded: ['redis'] });
    expect((await t.http.get('/api/v1/status')).body).toEqual({ status: 'degraded' });

    // Authenticated requests are still counted, in process, and answered.
    for (let i = 0; i < 3; i++) {
      const res = await t.http.get('/api/v1/portfolios').set(bearer(admin));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeDefined();
    }
    const detailed = await ready().set(bearer(admin));
    expect(detailed.body.checks.redis).toMatchObject({ status: 'degraded' });
    expect(leaks(detailed.text)).toBe(false);
    const metrics = await t.http.get('/metrics');
    expect(metrics.text).toMatch(/^bastion_rate_limit_degraded 1$/m);
    expect(metrics.text).toMatch(/^bastion_dependency_up\{dependency="redis"\} 0$/m);

    await redis.start();
    await waitUntil(async () => (await ready()).body.status === 'ok', 15_000, 'readiness ok again');
    expect((await ready().set(bearer(admin))).body.checks.redis).toEqual({ status: 'up' });
    expect((await t.http.get('/metrics')).text).toMatch(/^bastion_rate_limit_degraded 0$/m);
  }, 60_000);

  it('answers 503 DEPENDENCY_UNAVAILABLE while PostgreSQL is down, and a retried trade is stored once', async () => {
    const trade = { symbol: 'OUTG', side: 'buy', quantity: '3', price: '10.5', executedAt: '2026-03-01T10:00:00Z' };
    const key = 'outage-retry-0001';
    const post = () =>
      t.http.post(`/api/v1/portfolios/${portfolio}/trades`).set(bearer(admin)).set('Idempotency-Key', key).send(trade);

    pg.stop('fast');
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', dependency: 'database', status: 503 });
    expect(leaks(refused.text)).toBe(false);

    // Readiness names the failing check and nothing about where the database is.
    const notReady = await ready();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', failing: ['database'] });
    expect(notReady.body.checks).toBeUndefined();
    expect(leaks(notReady.text)).toBe(false);
    expect((await t.http.get('/health/live')).status).toBe(200);
    // Anonymous status still answers, with the state only.
    expect((await t.http.get('/api/v1/status')).body).toEqual({ status: 'error' });

    pg.start();
    await waitUntil(async () => (await ready()).status === 200, 20_000, 'database back');
    const stored = await post();
    expect(stored.status).toBe(201);
    const replayed = await post();
    expect([200, 201]).toContain(replayed.status);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    const list = await t.http.get(`/api/v1/portfolios/${portfolio}/trades`).set(bearer(admin));
    expect(list.body.items.filter((x: { symbol: string }) => x.symbol === 'OUTG')).toHaveLength(1);
  }, 90_000);

  it('answers 503 when the server ends the connections (pg_terminate_backend, immediate restart)', async () => {
    // Kill every connection of the application's database from outside, as an admin or a failover would.
    const { Client } = await import('pg');
    const outsider = new Client({ connectionString: pg.url });
    await outsider.connect();
    await outsider.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [new URL(t.database.url).pathname.slice(1)],
    );
    await outsider.end();
    // The pool replaces terminated connections: the next requests succeed.
    await waitUntil(async () => (await t.http.get('/api/v1/portfolios').set(bearer(admin))).status === 200, 10_000);

    pg.stop('immediate'); // a crash
    const res = await t.http.get('/api/v1/portfolios').set(bearer(admin));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('DEPENDENCY_UNAVAILABLE');
    pg.start();
    await waitUntil(async () => (await t.http.get('/api/v1/portfolios').set(bearer(admin))).status === 200, 20_000);
  }, 60_000);

  it('still answers a genuine defect with 500 INTERNAL_ERROR', async () => {
    const res = await t.http.get('/api/v1/test-defect');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('INTERNAL_ERROR');
    expect(res.headers['retry-after']).toBeUndefined();
  });
});
