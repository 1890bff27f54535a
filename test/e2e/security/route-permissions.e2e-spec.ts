import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RouteRegistry } from '../../../src/api/routes/route-registry';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Who can reach what. Every route of the app and its access requirement, compared with the
 * committed snapshot: a diff here is a change in who can reach what, and is reviewed as such.
 * Regenerate with UPDATE_ROUTE_SNAPSHOT=1 after an intended change.
 */
const SNAPSHOT = join(__dirname, 'route-permissions.snapshot.json');

interface RouteInfo {
  method: string;
  path: string;
  access: string;
}

/** Every route as the app serves it, from the registry built out of Nest's metadata at start-up. */
function collectRoutes(t: TestApp): RouteInfo[] {
  return t.app
    .get(RouteRegistry)
    .all()
    .map((r) => ({
      method: r.method,
      path: r.path,
      access:
        (r.access === 'public'
          ? 'public'
          : r.access === 'undeclared'
            ? 'UNDECLARED (denied)'
            : r.permissions.length
              ? r.permissions.join(' + ')
              : 'authenticated') + (r.sessionOnly ? ', session only (no API keys)' : ''),
    }));
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
    const current = Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.access]));
    if (process.env.UPDATE_ROUTE_SNAPSHOT === '1') writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 2)}\n`);
    const committed = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Record<string, string>;
    expect(current).toEqual(committed);
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
