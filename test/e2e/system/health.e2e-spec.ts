import { startTestApp, type TestApp } from '../support/test-app';

describe('health and status', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('answers liveness', async () => {
    const res = await t.http.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: {} });
  });

  it('answers readiness with each check', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.checks).toMatchObject({
      database: { status: 'up' },
      heap: { status: 'up' },
      storage: { status: 'up', freeMb: expect.any(Number) },
    });
  });

  it('reports version, uptime, mode, database and node', async () => {
    const res = await t.http.get('/api/v1/status');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
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
