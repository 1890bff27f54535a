import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RequestMethod, VERSION_NEUTRAL } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { UNPREFIXED_PATHS } from '../../../src/app.setup';
import { IS_PUBLIC } from '../../../src/common/http/public.decorator';
import { REQUIRED_PERMISSIONS } from '../../../src/security/rbac/authenticated.decorator';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Who can reach what. Every route of the app and its access requirement, compared with the
 * committed snapshot: a diff here is a change in who can reach what, and is reviewed as such.
 * Regenerate with UPDATE_ROUTE_SNAPSHOT=1 after an intended change.
 */
// Nest's metadata keys (from @nestjs/common/constants, which the package does not export by name).
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';
const VERSION_METADATA = '__version__';

const SNAPSHOT = join(__dirname, 'route-permissions.snapshot.json');

interface RouteInfo {
  method: string;
  path: string;
  access: string;
}

function collectRoutes(t: TestApp): RouteInfo[] {
  const discovery = t.app.get(DiscoveryService);
  const scanner = t.app.get(MetadataScanner);
  const reflector = t.app.get(Reflector);
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const ctrl = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
    if (!ctrl || !wrapper.instance) continue;
    const base = String(Reflect.getMetadata(PATH_METADATA, ctrl) ?? '').replace(/^\/|\/$/g, '');
    const version = Reflect.getMetadata(VERSION_METADATA, ctrl) as string | symbol | undefined;
    const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, unknown>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name] as object;
      const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (sub === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      const rel = [base, sub.replace(/^\/|\/$/g, '')].filter(Boolean).join('/');
      const path =
        UNPREFIXED_PATHS.includes(rel) || version === VERSION_NEUTRAL
          ? `/${rel}`
          : `/api/v${String(version ?? '1')}/${rel}`;
      const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler as never, ctrl]);
      const perms = reflector.getAllAndOverride<string[] | undefined>(REQUIRED_PERMISSIONS, [handler as never, ctrl]);
      const access = isPublic
        ? 'public'
        : perms === undefined
          ? 'UNDECLARED (denied)'
          : perms.length
            ? perms.join(' + ')
            : 'authenticated';
      routes.push({ method, path, access });
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
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
