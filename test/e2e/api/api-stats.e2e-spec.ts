import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef0123456789abcdef';
const UNKNOWN_USER = '00000000-0000-4000-8000-000000000000';

interface RouteStats {
  method: string;
  path: string;
  version: string | null;
  access: string;
  permissions: string[];
  requests: number;
  statusClasses: Record<'2xx' | '3xx' | '4xx' | '5xx', number>;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
}

interface Stats {
  since: string;
  routes: RouteStats[];
  unmatched: Omit<RouteStats, 'method' | 'path' | 'version' | 'access' | 'permissions'>;
}

describe('API statistics and Prometheus metrics', () => {
  let t: TestApp;
  let root: Tokens;
  let rootId: string;
  let viewer: Tokens;

  const stats = async (): Promise<Stats> => {
    const res = await t.http.get('/api/v1/admin/api-stats').set(bearer(root));
    expect(res.status).toBe(200);
    return res.body as Stats;
  };
  const route = (s: Stats, method: string, path: string): RouteStats => {
    const found = s.routes.find((r) => r.method === method && r.path === path);
    if (!found) throw new Error(`no ${method} ${path} in api-stats`);
    return found;
  };
  const scrape = () => t.http.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      METRICS_TOKEN,
      METRICS_ALLOW_IPS: '127.0.0.0/8,::1',
      TRUSTED_PROXIES: 'loopback', // so X-Forwarded-For can play a client from elsewhere
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    rootId = (await t.http.get('/api/v1/me').set(bearer(root))).body.id as string;
    viewer = (await createUser(t, root, ['viewer'])).tokens;
  });
  afterAll(() => t?.close());

  it('lists every route with its version and access requirement, including its own two', async () => {
    const s = await stats();
    expect(Date.parse(s.since)).toBeLessThanOrEqual(Date.now());
    expect(s.routes.length).toBeGreaterThan(20);
    expect(route(s, 'GET', '/api/v1/admin/api-stats')).toMatchObject({
      version: '1',
      access: 'authenticated',
      permissions: ['api-stats:read'],
    });
    expect(route(s, 'GET', '/metrics')).toMatchObject({ version: null, access: 'public', permissions: [] });
    expect(route(s, 'GET', '/api/v1/users/:id')).toMatchObject({
      access: 'authenticated',
      permissions: ['users:read'],
    });
    expect(route(s, 'GET', '/api/v1/status')).toMatchObject({ version: '1', access: 'public' });
    expect(s.routes.filter((r) => r.access === 'undeclared')).toEqual([]);
  });

  it('counts requests per route template by status class, whoever answers them', async () => {
    const before = await stats();

    for (let i = 0; i < 3; i++) expect((await t.http.get('/api/v1/status')).status).toBe(200);
    expect((await t.http.head('/api/v1/status')).status).toBe(200); // served by the GET route
    for (let i = 0; i < 2; i++)
      expect((await t.http.get(`/api/v1/users/${rootId}`).set(bearer(root))).status).toBe(200);
    expect((await t.http.get('/api/v1/users/not-a-uuid').set(bearer(root))).status).toBe(400); // pipe
    expect((await t.http.get(`/api/v1/users/${UNKNOWN_USER}`)).status).toBe(401); // guard
    expect((await t.http.get(`/api/v1/users/${UNKNOWN_USER}`).set(bearer(root))).status).toBe(404); // service
    const malformed = await t.http
      .post('/api/v1/users')
      .set(bearer(root))
      .set('Content-Type', 'application/json')
      .send('{"email": ');
    expect(malformed.status).toBe(400); // refused by the body parser, before any route ran
    expect(malformed.body.code).toBe('MALFORMED_JSON');
    for (let i = 0; i < 5; i++) expect((await t.http.get(`/api/v1/no-such-thing-${i}`)).status).toBe(404);
    expect((await t.http.get('/wp-login.php?x=1')).status).toBe(404);
    expect((await t.http.delete('/api/v1/status')).status).toBe(405);

    const after = await stats();
    const delta = (method: string, path: string) => {
      const [a, b] = [route(after, method, path), route(before, method, path)];
      return {
        requests: a.requests - b.requests,
        '2xx': a.statusClasses['2xx'] - b.statusClasses['2xx'],
        '4xx': a.statusClasses['4xx'] - b.statusClasses['4xx'],
        '5xx': a.statusClasses['5xx'] - b.statusClasses['5xx'],
      };
    };
    expect(delta('GET', '/api/v1/status')).toEqual({ requests: 4, '2xx': 4, '4xx': 0, '5xx': 0 });
    expect(delta('GET', '/api/v1/users/:id')).toEqual({ requests: 5, '2xx': 2, '4xx': 3, '5xx': 0 });
    expect(delta('POST', '/api/v1/users')).toEqual({ requests: 1, '2xx': 0, '4xx': 1, '5xx': 0 });

    // Unknown paths and the wrong method share one entry; no route appears for a raw URL.
    expect(after.unmatched.requests - before.unmatched.requests).toBe(7);
    expect(after.unmatched.statusClasses['4xx'] - before.unmatched.statusClasses['4xx']).toBe(7);
    expect(after.routes.length).toBe(before.routes.length);
    expect(after.routes.filter((r) => /no-such|wp-login|[0-9a-f]{8}-/.test(r.path))).toEqual([]);

    for (const [method, path] of [
      ['GET', '/api/v1/status'],
      ['GET', '/api/v1/users/:id'],
    ]) {
      const { p50, p95, p99, max } = route(after, method, path).latencyMs;
      expect({ path, sane: 0 < p50! && p50! <= p95! && p95! <= p99! && p99! <= max! && max! < 10_000 }).toEqual({
        path,
        sane: true,
      });
    }
    const never = after.routes.find((r) => r.requests === 0)!;
    expect(never.latencyMs).toEqual({ p50: null, p95: null, p99: null, max: null });
  });

  it('serves Prometheus text labelled by route template, with the process metrics', async () => {
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    const text = res.text;
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/api\/v1\/users\/:id",status="200"\} 2$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/api\/v1\/users\/:id",status="401"\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{method="HEAD",route="\/api\/v1\/status",status="200"\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",route="unmatched",status="404"\} 6$/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/api\/v1\/users\/:id",status="200"\} 2$/m,
    );
    expect(text).toMatch(
      /^http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/users\/:id",status="400"\} 1$/m,
    );
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    // Never a raw URL: no user id, no probe path.
    expect(text).not.toContain(rootId);
    expect(text).not.toContain(UNKNOWN_USER);
    expect(text).not.toMatch(/no-such|wp-login|not-a-uuid/);
  });

  it('refuses a scrape without the token, with a wrong one, or from an address outside METRICS_ALLOW_IPS', async () => {
    const missing = await t.http.get('/metrics');
    expect(missing.status).toBe(401);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer realm="metrics"/);
    expect(missing.body.code).toBe('UNAUTHENTICATED');

    // A user's access token is not the metrics token.
    const wrong = await t.http.get('/metrics').set(bearer(root));
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_TOKEN');

    const elsewhere = await scrape().set('X-Forwarded-For', '203.0.113.9');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.code).toBe('FORBIDDEN');
    expect(elsewhere.text).not.toContain('http_requests_total');

    expect((await scrape()).status).toBe(200);
  });

  it('shows api-stats only to holders of api-stats:read', async () => {
    const asViewer = await t.http.get('/api/v1/admin/api-stats').set(bearer(viewer));
    expect(asViewer.status).toBe(403);
    expect(asViewer.body).toMatchObject({ code: 'FORBIDDEN', missingPermissions: ['api-stats:read'] });
    expect((await t.http.get('/api/v1/admin/api-stats')).status).toBe(401);
    // Those refusals are counted too.
    const s = await stats();
    expect(route(s, 'GET', '/api/v1/admin/api-stats').statusClasses['4xx']).toBeGreaterThanOrEqual(2);
    expect(route(s, 'GET', '/metrics').statusClasses['4xx']).toBeGreaterThanOrEqual(3);
  });
});
