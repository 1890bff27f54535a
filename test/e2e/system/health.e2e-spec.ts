import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

describe('health and status', () => {
  let t: TestApp;
  let admin: Tokens;
  let viewer: Tokens;

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    viewer = (await createUser(t, admin, ['viewer'])).tokens;
  });
  afterAll(() => t?.close());

  it('answers liveness', async () => {
    const res = await t.http.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: {} });
  });

  it('answers readiness to anonymous callers with the state only', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('shows each check with its figures to callers with metrics:read', async () => {
    const res = await t.http.get('/health/ready').set(bearer(admin));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.checks).toMatchObject({
      database: { status: 'up' },
      heap: { status: 'up', usedMb: expect.any(Number) },
      storage: { status: 'up', freeMb: expect.any(Number) }, // the test's DATA_DIR exists
    });
    if (t.config.redisUrl) expect(res.body.checks.redis).toEqual({ status: 'up' });
    // A caller without metrics:read, or with a broken token, is anonymous.
    expect((await t.http.get('/health/ready').set(bearer(viewer))).body).toEqual({ status: 'ok' });
    expect((await t.http.get('/health/ready').set(bearer('not-a-token'))).body).toEqual({ status: 'ok' });
  });

  it('gives anonymous callers of /status the state only', async () => {
    const res = await t.http.get('/api/v1/status');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports version, uptime, mode, database and node to metrics:read', async () => {
    const res = await t.http.get('/api/v1/status').set(bearer(admin));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSeconds: expect.any(Number),
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      mode: t.config.mode,
      database: {
        engine: t.config.mode === 'embedded' ? 'pglite' : 'postgresql',
        version: expect.stringMatching(/^\d+/),
      },
      node: process.version,
    });
  });

  it('keeps the probes outside the versioned API', async () => {
    expect((await t.http.get('/api/v1/health/live')).status).toBe(404);
    expect((await t.http.get('/status')).status).toBe(404);
  });
});
