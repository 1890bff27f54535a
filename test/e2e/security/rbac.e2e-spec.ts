import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

describe('roles, groups and live permission changes', () => {
  let t: TestApp;
  let root: Tokens;
  let admin: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    admin = await createUser(t, root, ['admin']);
  });
  afterAll(() => t?.close());

  it('lists every role with its effective permissions', async () => {
    const res = await t.http.get('/api/v1/roles').set(bearer(root));
    expect(res.status).toBe(200);
    expect(res.body.items.map((r: { name: string }) => r.name).sort()).toEqual(
      ['admin', 'analyst', 'auditor', 'manager', 'super_admin', 'trader', 'viewer'].sort(),
    );
    const trader = res.body.items.find((r: { name: string }) => r.name === 'trader');
    expect(trader.permissions).toEqual(expect.arrayContaining(['trades:write', 'portfolios:read']));
    expect(res.body.permissions.length).toBeGreaterThanOrEqual(15);
  });

  it('gives a viewer 403 on an admin route, naming the missing permission', async () => {
    const viewer = await createUser(t, root, ['viewer']);
    const res = await t.http.get('/api/v1/users').set(bearer(viewer.tokens));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FORBIDDEN', missingPermissions: ['users:read'] });
    expect((await t.http.get('/api/v1/users').set(bearer(root))).status).toBe(200);
  });

  it('lets no admin grant super_admin or admin; only super_admin does', async () => {
    const target = await createUser(t, root, ['viewer']);
    for (const roles of [['super_admin'], ['admin']]) {
      const res = await t.http.put(`/api/v1/users/${target.id}/roles`).set(bearer(admin.tokens)).send({ roles });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ROLE_NOT_GRANTABLE');
    }
    const asAdmin = await t.http
      .put(`/api/v1/users/${target.id}/roles`)
      .set(bearer(admin.tokens))
      .send({ roles: ['trader'] });
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.roles).toEqual(['trader']);
    const byRoot = await t.http
      .put(`/api/v1/users/${target.id}/roles`)
      .set(bearer(root))
      .send({ roles: ['admin'] });
    expect(byRoot.status).toBe(200);
    // An admin also cannot create a user with a role they may not grant.
    const create = await t.http
      .post('/api/v1/users')
      .set(bearer(admin.tokens))
      .send({
        email: 'sneaky@example.com',
        password: 'Quiet-Orchard-Sneaky-1',
        firstName: 'S',
        lastName: 'N',
        roles: ['super_admin'],
      });
    expect(create.status).toBe(403);
  });

  it('never removes the last active super_admin', async () => {
    const me = await t.http.get('/api/v1/me').set(bearer(root));
    const res = await t.http
      .put(`/api/v1/users/${me.body.id}/roles`)
      .set(bearer(root))
      .send({ roles: ['admin'] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('LAST_SUPER_ADMIN');
    const suspend = await t.http
      .post(`/api/v1/users/${me.body.id}/status`)
      .set(bearer(root))
      .send({ status: 'suspended', reason: 'test' });
    expect(suspend.status).toBe(409);
    // An admin cannot act on a super_admin at all.
    const byAdmin = await t.http
      .post(`/api/v1/users/${me.body.id}/status`)
      .set(bearer(admin.tokens))
      .send({ status: 'suspended', reason: 'coup' });
    expect(byAdmin.status).toBe(403);
  });

  it('applies a suspension to a live access token on the next request', async () => {
    const trader = await createUser(t, root, ['trader']);
    expect((await t.http.get('/api/v1/me').set(bearer(trader.tokens))).status).toBe(200);
    const res = await t.http
      .post(`/api/v1/users/${trader.id}/status`)
      .set(bearer(admin.tokens))
      .send({ status: 'suspended', reason: 'compliance hold' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'suspended', statusReason: 'compliance hold' });
    expect((await t.http.get('/api/v1/me').set(bearer(trader.tokens))).status).toBe(401);
    expect((await t.http.post('/api/v1/auth/refresh').send({ refreshToken: trader.tokens.refreshToken })).status).toBe(
      401,
    );
    const relogin = await t.http.post('/api/v1/auth/login').send({ email: trader.email, password: trader.password });
    expect(relogin.status).toBe(401);
    expect(relogin.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('applies a role removal to a live access token on the next request', async () => {
    const auditor = await createUser(t, root, ['auditor']);
    expect((await t.http.get('/api/v1/audit-events').set(bearer(auditor.tokens))).status).toBe(200);
    await t.http
      .put(`/api/v1/users/${auditor.id}/roles`)
      .set(bearer(admin.tokens))
      .send({ roles: ['viewer'] })
      .expect(200);
    expect((await t.http.get('/api/v1/audit-events').set(bearer(auditor.tokens))).status).toBe(403);
    const me = await t.http.get('/api/v1/me').set(bearer(auditor.tokens));
    expect(me.body.permissions).not.toContain('audit:read');
  });

  it('grants permissions through groups, and takes them away live', async () => {
    const viewer = await createUser(t, root, ['viewer']);
    const group = await t.http
      .post('/api/v1/groups')
      .set(bearer(admin.tokens))
      .send({ name: 'Compliance readers', permissions: ['audit:read'] });
    expect(group.status).toBe(201);
    expect((await t.http.get('/api/v1/audit-events').set(bearer(viewer.tokens))).status).toBe(403);
    await t.http.put(`/api/v1/groups/${group.body.id}/members/${viewer.id}`).set(bearer(admin.tokens)).expect(204);
    expect((await t.http.get('/api/v1/audit-events').set(bearer(viewer.tokens))).status).toBe(200);
    const me = await t.http.get('/api/v1/me').set(bearer(viewer.tokens));
    expect(me.body.groups).toEqual([{ id: group.body.id, name: 'Compliance readers' }]);

    await t.http
      .patch(`/api/v1/groups/${group.body.id}`)
      .set(bearer(admin.tokens))
      .send({ permissions: [] })
      .expect(200);
    expect((await t.http.get('/api/v1/audit-events').set(bearer(viewer.tokens))).status).toBe(403);

    const byGroup = await t.http.get('/api/v1/users').query({ group: group.body.id }).set(bearer(admin.tokens));
    expect(byGroup.body.items.map((u: { id: string }) => u.id)).toEqual([viewer.id]);
  });

  it('lets a manager manage only groups whose permissions they hold', async () => {
    const manager = await createUser(t, root, ['manager']);
    const escalate = await t.http
      .post('/api/v1/groups')
      .set(bearer(manager.tokens))
      .send({ name: 'Shadow admins', permissions: ['users:manage-roles'] });
    expect(escalate.status).toBe(403);
    const admins = await t.http
      .post('/api/v1/groups')
      .set(bearer(root))
      .send({ name: 'Role managers', permissions: ['users:manage-roles'] });
    const join = await t.http.put(`/api/v1/groups/${admins.body.id}/members/${manager.id}`).set(bearer(manager.tokens));
    expect(join.status).toBe(403);
    const ok = await t.http
      .post('/api/v1/groups')
      .set(bearer(manager.tokens))
      .send({ name: 'Desk', permissions: ['trades:write'] });
    expect(ok.status).toBe(201);
  });

  it('paginates and filters the user list', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await t.http
        .get('/api/v1/users')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(bearer(root));
      expect(res.status).toBe(200);
      for (const u of res.body.items) {
        expect(seen.has(u.id)).toBe(false);
        seen.add(u.id);
      }
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    const all = await t.http.get('/api/v1/users').query({ limit: 200 }).set(bearer(root));
    expect(seen.size).toBe(all.body.items.length);
    const suspended = await t.http.get('/api/v1/users').query({ status: 'suspended' }).set(bearer(root));
    expect(suspended.body.items.every((u: { status: string }) => u.status === 'suspended')).toBe(true);
    const search = await t.http.get('/api/v1/users').query({ q: 'ROOT@' }).set(bearer(root));
    expect(search.body.items.map((u: { email: string }) => u.email)).toEqual([ADMIN_EMAIL]);
    expect((await t.http.get('/api/v1/users').query({ cursor: 'bogus' }).set(bearer(root))).status).toBe(400);
    expect((await t.http.get('/api/v1/users').query({ role: 'emperor' }).set(bearer(root))).status).toBe(400);
  });
});
