import { DataSource } from 'typeorm';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

describe('API keys', () => {
  let t: TestApp;
  let root: Tokens;
  let admin: Awaited<ReturnType<typeof createUser>>;
  /** Creating a key re-confirms the password: each test user's, by access token. */
  const passwords = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    admin = await createUser(t, root, ['admin']);
    passwords.set(admin.tokens.accessToken, admin.password);
  });
  const user = async (roles: string[]) => {
    const u = await createUser(t, root, roles);
    passwords.set(u.tokens.accessToken, u.password);
    return u;
  };
  afterAll(() => t?.close());

  const createKey = async (tokens: Tokens, body: Record<string, unknown>) => {
    const res = await t.http
      .post('/api/v1/api-keys')
      .set(bearer(tokens))
      .send({ name: 'integration', password: passwords.get(tokens.accessToken), ...body });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string; prefix: string };
  };
  const withKey = (secret: string) => ({ 'X-API-Key': secret });

  it('creates a bst_ key shown once, stored only as a hash', async () => {
    const key = await createKey(admin.tokens, { scopes: ['users:read'] });
    expect(key.secret).toMatch(/^bst_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    const list = await t.http.get('/api/v1/api-keys').set(bearer(admin.tokens));
    expect(list.status).toBe(200);
    const listed = list.body.items.find((k: { id: string }) => k.id === key.id);
    expect(listed).toMatchObject({ name: 'integration', prefix: key.prefix, scopes: ['users:read'], lastUsedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(key.secret);
    const rows = await t.app.get(DataSource).query('SELECT * FROM api_keys WHERE id = $1', [key.id]);
    expect(JSON.stringify(rows)).not.toContain(key.secret.slice(4));
    const audit = await t.http.get('/api/v1/audit-events').query({ targetId: key.id }).set(bearer(root));
    expect(JSON.stringify(audit.body)).not.toContain(key.secret.slice(4));
  });

  it('reads with a read scope but cannot write, and records where it was used', async () => {
    const key = await createKey(admin.tokens, { scopes: ['users:read'] });
    expect((await t.http.get('/api/v1/users').set(withKey(key.secret))).status).toBe(200);
    const write = await t.http
      .post('/api/v1/users')
      .set(withKey(key.secret))
      .send({ email: 'k@example.com', password: 'Quiet-Orchard-Key-1', firstName: 'K', lastName: 'Ey' });
    expect(write.status).toBe(403);
    expect(write.body.missingPermissions).toEqual(['users:create']);
    const list = await t.http.get('/api/v1/api-keys').set(bearer(admin.tokens));
    expect(list.body.items.find((k: { id: string }) => k.id === key.id)).toMatchObject({
      lastUsedAt: expect.any(String),
      lastUsedIp: expect.any(String),
    });
  });

  it('attributes what a key does to the key in the audit log and activity', async () => {
    const key = await createKey(admin.tokens, { scopes: ['groups:manage'] });
    const created = await t.http.post('/api/v1/groups').set(withKey(key.secret)).send({ name: 'Made by a key' });
    expect(created.status).toBe(201);
    const audit = await t.http
      .get('/api/v1/audit-events')
      .query({ action: 'group.created', targetId: created.body.id })
      .set(bearer(root));
    expect(audit.body.items[0]).toMatchObject({ actorType: 'api_key', actorId: key.id });
    const activity = await t.http.get('/api/v1/me/activity').set(bearer(admin.tokens));
    expect(activity.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'api_key_used', details: { apiKeyId: key.id } })]),
    );
  });

  it('refuses scopes the owner does not hold, and keys creating keys', async () => {
    const viewer = await user(['viewer']);
    const res = await t.http
      .post('/api/v1/api-keys')
      .set(bearer(viewer.tokens))
      .send({ name: 'x', scopes: ['users:read'], password: viewer.password });
    expect(res.status).toBe(403);
    const key = await createKey(viewer.tokens, { scopes: ['roles:read'] });
    const nested = await t.http
      .post('/api/v1/api-keys')
      .set(withKey(key.secret))
      .send({ name: 'y', scopes: ['roles:read'] });
    expect(nested.status).toBe(403);
  });

  it('stops a revoked, an expired, and a suspended owner\u2019s key with 401', async () => {
    const owner = await user(['manager']);
    const revoked = await createKey(owner.tokens, { scopes: ['users:read'] });
    const expired = await createKey(owner.tokens, {
      scopes: ['users:read'],
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const suspended = await createKey(owner.tokens, { scopes: ['users:read'] });
    for (const k of [revoked, expired, suspended])
      expect((await t.http.get('/api/v1/users').set(withKey(k.secret))).status).toBe(200);

    expect((await t.http.delete(`/api/v1/api-keys/${revoked.id}`).set(bearer(owner.tokens))).status).toBe(204);
    // Expiry is a point in time: move it to the past rather than wait an hour.
    await t.app
      .get(DataSource)
      .query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    expect((await t.http.get('/api/v1/users').set(withKey(revoked.secret))).status).toBe(401);
    expect((await t.http.get('/api/v1/users').set(withKey(expired.secret))).status).toBe(401);

    await t.http
      .post(`/api/v1/users/${owner.id}/status`)
      .set(bearer(admin.tokens))
      .send({ status: 'suspended', reason: 'audit' })
      .expect(200);
    const res = await t.http.get('/api/v1/users').set(withKey(suspended.secret));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    expect((await t.http.get('/api/v1/users').set(withKey('bst_' + 'A'.repeat(43)))).status).toBe(401);
  });

  it('loses a permission the moment its owner does', async () => {
    const owner = await user(['manager']);
    const key = await createKey(owner.tokens, { scopes: ['users:read', 'roles:read'] });
    expect((await t.http.get('/api/v1/users').set(withKey(key.secret))).status).toBe(200);
    await t.http
      .put(`/api/v1/users/${owner.id}/roles`)
      .set(bearer(admin.tokens))
      .send({ roles: ['viewer'] })
      .expect(200);
    expect((await t.http.get('/api/v1/users').set(withKey(key.secret))).status).toBe(403);
    expect((await t.http.get('/api/v1/roles').set(withKey(key.secret))).status).toBe(200);
  });

  it('refuses use from outside its allow-list with 403', async () => {
    const outside = await createKey(admin.tokens, {
      scopes: ['users:read'],
      allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'],
    });
    const inside = await createKey(admin.tokens, { scopes: ['users:read'], allowedCidrs: ['127.0.0.0/8', '::1/128'] });
    const res = await t.http.get('/api/v1/users').set(withKey(outside.secret));
    expect(res.status).toBe(403);
    expect((await t.http.get('/api/v1/users').set(withKey(inside.secret))).status).toBe(200);
    const bad = await t.http
      .post('/api/v1/api-keys')
      .set(bearer(admin.tokens))
      .send({ name: 'x', scopes: ['users:read'], allowedCidrs: ['10.0.0.0/99'], password: admin.password });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('allowedCidrs.0');
  });

  it('lets owners revoke their keys and admins revoke anyone\u2019s; others get 404', async () => {
    const a = await user(['trader']);
    const b = await user(['trader']);
    const key = await createKey(a.tokens, { scopes: ['roles:read'] });
    expect((await t.http.delete(`/api/v1/api-keys/${key.id}`).set(bearer(b.tokens))).status).toBe(404);
    expect((await t.http.get('/api/v1/api-keys').query({ all: true }).set(bearer(b.tokens))).status).toBe(403);
    const all = await t.http.get('/api/v1/api-keys').query({ ownerId: a.id }).set(bearer(admin.tokens));
    expect(all.body.items.map((k: { id: string }) => k.id)).toEqual([key.id]);
    expect((await t.http.delete(`/api/v1/api-keys/${key.id}`).set(bearer(admin.tokens))).status).toBe(204);
    expect((await t.http.get('/api/v1/roles').set(withKey(key.secret))).status).toBe(401);
  });
});
