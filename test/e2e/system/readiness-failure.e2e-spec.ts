import { startTestApp, type TestApp } from '../support/test-app';

describe('readiness when a check fails', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Ask for more free disk than any machine has: the storage check must fail, and only it.
    t = await startTestApp({ HEALTH_DISK_MIN_FREE_MB: String(1024 * 1024 * 1024) });
  });
  afterAll(() => t?.close());

  it('answers 503 problem+json naming the failing check', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      failing: ['storage'],
      detail: expect.stringContaining('storage'),
      checks: { database: { status: 'up' }, storage: { status: 'down' } },
    });
  });

  it('still answers liveness', async () => {
    expect((await t.http.get('/health/live')).status).toBe(200);
  });
});
