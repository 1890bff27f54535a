import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

describe('readiness when a check fails', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Ask for more free disk than any machine has: the storage check must fail, and only it.
    t = await startTestApp({ ...BOOTSTRAP_ENV, HEALTH_DISK_MIN_FREE_MB: String(1024 * 1024 * 1024) });
  });
  afterAll(() => t?.close());

  it('answers 503 problem+json naming the failing check, and no figures, to anonymous callers', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      failing: ['storage'],
      detail: expect.stringContaining('storage'),
    });
    expect(res.body.checks).toBeUndefined();
    expect(res.text).not.toMatch(/freeMb|minFreeMb/);
  });

  it('gives the figures to metrics:read', async () => {
    const admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const res = await t.http.get('/health/ready').set(bearer(admin));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      failing: ['storage'],
      checks: { database: { status: 'up' }, storage: { status: 'down', freeMb: expect.any(Number) } },
    });
  });

  it('still answers liveness', async () => {
    expect((await t.http.get('/health/live')).status).toBe(200);
  });
});
