import { randomBytes } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/test-app';

/** Requests "from" another client: 127.0.0.1 is a trusted proxy here, so X-Forwarded-For is believed. */
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

describe('rate limiting', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      TRUSTED_PROXIES: '127.0.0.1,::1',
      RATE_LIMIT_AUTH_PER_MINUTE: '10',
      RATE_LIMIT_IP_PER_MINUTE: '50',
    });
  });
  afterAll(() => t?.close());

  it('answers the 11th of twenty logins from one IP with 429, Retry-After and RateLimit headers', async () => {
    const statuses: number[] = [];
    let last: { status: number; headers: Record<string, string>; body: Record<string, unknown> } | undefined;
    for (let i = 0; i < 20; i++) {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set(from('198.51.100.10'))
        .send({ email: 'a@example.com', password: 'not-the-password' });
      statuses.push(res.status);
      expect(res.headers['ratelimit-limit']).toBe('10');
      expect(Number(res.headers['ratelimit-remaining'])).toBe(Math.max(0, 10 - (i + 1)));
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
      last = res;
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    expect(last!.headers['content-type']).toMatch(/problem\+json/);
    expect(last!.body.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // Another client is not affected.
    expect(
      (
        await t.http
          .post('/api/v1/auth/login')
          .set(from('198.51.100.11'))
          .send({ email: 'a@example.com', password: 'x' })
      ).status,
    ).toBe(401);
  });

  it('applies the global per-IP limit to every route', async () => {
    const ip = '198.51.100.50';
    const codes: number[] = [];
    for (let i = 0; i < 51; i++) codes.push((await t.http.get('/api/v1/status').set(from(ip))).status);
    expect(codes.slice(0, 50).every((c) => c === 200)).toBe(true);
    expect(codes[50]).toBe(429);
    // Probes are never limited: orchestrators must always reach them.
    expect((await t.http.get('/health/live').set(from(ip))).status).toBe(200);
  });

  const shared = process.env.REDIS_URL ? it : it.skip;
  shared('shares one count between two instances through Redis', async () => {
    const prefix = `bastion-test-shared-${randomBytes(4).toString('hex')}:`;
    const env = { TRUSTED_PROXIES: '127.0.0.1,::1', RATE_LIMIT_AUTH_PER_MINUTE: '10', REDIS_KEY_PREFIX: prefix };
    const a = await startTestApp(env);
    const b = await startTestApp(env);
    try {
      const ip = '198.51.100.99';
      for (let i = 0; i < 10; i++) {
        const app = i % 2 === 0 ? a : b;
        expect(
          (await app.http.post('/api/v1/auth/login').set(from(ip)).send({ email: 'a@example.com', password: 'x' }))
            .status,
        ).toBe(401);
      }
      const res = await a.http.post('/api/v1/auth/login').set(from(ip)).send({ email: 'a@example.com', password: 'x' });
      expect(res.status).toBe(429);
      expect(
        (await b.http.post('/api/v1/auth/login').set(from(ip)).send({ email: 'a@example.com', password: 'x' })).status,
      ).toBe(429);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
