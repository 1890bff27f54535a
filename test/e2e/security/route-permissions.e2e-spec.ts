import { RouteRegistry } from '../../../src/api/routes/route-registry';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Who can reach what. Every route of the app with its handler, access requirement, the guard
 * checks it opts out of and its rate-limit class, compared with the committed Jest snapshot
 * (`__snapshots__/route-permissions.e2e-spec.ts.snap`): a diff here is a change in who can reach
 * what, and is reviewed as such. After an intended change regenerate it with
 * `npx jest test/e2e/security/route-permissions -u`; under `--ci` a difference fails, never rewrites.
 */
interface RouteInfo {
  method: string;
  path: string;
  access: string;
  /** `UsersController.get · users:read · rate standard · guard: expired-password`. */
  line: string;
}

/** Every route as the app serves it, from the registry built out of Nest's metadata at start-up. */
function collectRoutes(t: TestApp): RouteInfo[] {
  return t.app
    .get(RouteRegistry)
    .all()
    .map((r) => {
      const access =
        (r.access === 'public'
          ? 'public'
          : r.access === 'undeclared'
            ? 'UNDECLARED (denied)'
            : r.permissions.length
              ? r.permissions.join(' + ')
              : 'authenticated') + (r.sessionOnly ? ', session only (no API keys)' : '');
      const parts = [r.handler, access, `rate ${r.rateLimitClass}`];
      if (r.guardOptOuts.length > 0) parts.push(`guard: ${r.guardOptOuts.join(', ')}`);
      return { method: r.method, path: r.path, access, line: parts.join(' · ') };
    });
}

describe('route permission declarations', () => {
  let t: TestApp;
  let routes: RouteInfo[];

  beforeAll(async () => {
    t = await startTestApp({ REGISTRATION_MODE: 'closed' });
    routes = collectRoutes(t);
  });
  afterAll(() => t?.close());

  it('matches the committed snapshot', () => {
    if (process.env.UPDATE_ROUTE_SNAPSHOT) {
      throw new Error('UPDATE_ROUTE_SNAPSHOT is gone: run `npx jest test/e2e/security/route-permissions -u` instead');
    }
    expect(Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.line]))).toMatchSnapshot();
  });

  it('declares an access policy on every route', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => r.access.startsWith('UNDECLARED'))).toEqual([]);
  });

  it('answers 401 problem+json on every non-public route without credentials', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    for (const route of routes.filter((r) => r.access !== 'public')) {
      const url = route.path.replace(/:\w+/g, uuid);
      const res = await t.http[route.method.toLowerCase() as 'get'](url).send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status, code: res.body.code }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
  });

  it('closes self-registration when REGISTRATION_MODE=closed', async () => {
    const res = await t.http
      .post('/api/v1/auth/register')
      .send({ email: 'a@example.com', password: 'violet tractor sings at dawn', firstName: 'A', lastName: 'B' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('REGISTRATION_CLOSED');
  });
});
