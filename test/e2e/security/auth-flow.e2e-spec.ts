import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { bearer, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

const GRACE_SECONDS = 10;

describe('registration, login, refresh rotation and reuse detection', () => {
  let t: TestApp;
  const email = 'Jane.Doe@Example.com';
  const password = 'violet tractor sings at dawn';

  beforeAll(async () => {
    t = await startTestApp({ REGISTRATION_MODE: 'open', REFRESH_GRACE_SECONDS: String(GRACE_SECONDS) });
  });
  afterAll(() => t?.close());

  it('refuses to let a registrant choose roles, status or any unknown field', async () => {
    for (const extra of [{ roles: ['admin'] }, { status: 'active' }, { isAdmin: true }]) {
      const res = await t.http
        .post('/api/v1/auth/register')
        .send({ email: 'x@example.com', password, firstName: 'X', lastName: 'Y', ...extra });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.errors[0].field).toBe(Object.keys(extra)[0]);
    }
    // Nothing was created: the email is still free.
    const ok = await t.http
      .post('/api/v1/auth/register')
      .send({ email: 'x@example.com', password, firstName: 'X', lastName: 'Y' });
    expect(ok.status).toBe(201);
  });

  it('lists every broken password rule at once', async () => {
    const res = await t.http
      .post('/api/v1/auth/register')
      .send({ email: 'weak@example.com', password: 'weak', firstName: 'Weak', lastName: 'User' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('WEAK_PASSWORD');
    expect(res.body.rules).toEqual(expect.arrayContaining(['min_length', 'personal']));
    expect(res.body.errors.length).toBe(res.body.rules.length);
  });

  let first: Tokens;

  it('registers an active viewer and signs in', async () => {
    const reg = await t.http
      .post('/api/v1/auth/register')
      .send({ email, password, firstName: 'Jane', lastName: 'Doe' });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ email: 'jane.doe@example.com', status: 'active', roles: ['viewer'] });
    expect(reg.body).not.toHaveProperty('password');
    expect(JSON.stringify(reg.body)).not.toContain('argon2');

    const dup = await t.http
      .post('/api/v1/auth/register')
      .send({ email: 'JANE.DOE@example.com', password, firstName: 'J', lastName: 'D' });
    expect(dup.status).toBe(409);

    const res = await t.http.post('/api/v1/auth/login').send({ email: 'JANE.doe@example.com', password });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
    });
    first = res.body;
    const claims = jwt.decode(first.accessToken, { complete: true })!;
    expect(claims.header.alg).toBe('HS256');
    expect(claims.payload).toEqual({
      sub: reg.body.id,
      sid: expect.any(String),
      iat: expect.any(Number),
      exp: expect.any(Number),
      iss: 'bastion',
      aud: 'bastion-api',
    });
    expect((claims.payload as { exp: number; iat: number }).exp - (claims.payload as { iat: number }).iat).toBe(900);
  });

  it('shows my profile, roles, groups and effective permissions', async () => {
    const me = await t.http.get('/api/v1/me').set(bearer(first));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      email: 'jane.doe@example.com',
      roles: ['viewer'],
      groups: [],
      passwordExpired: false,
    });
    expect(me.body.permissions).toEqual(expect.arrayContaining(['portfolios:read', 'roles:read']));
    expect(me.body.permissions).not.toContain('users:read');
  });

  it('refuses tokens that are forged, unsigned or signed with another algorithm', async () => {
    const payload = jwt.decode(first.accessToken) as Record<string, unknown>;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
    const otherKey = jwt.sign(payload, 'not-the-server-key', { algorithm: 'HS256', noTimestamp: true });
    const hs512 = jwt.sign(payload, 'x'.repeat(64), { algorithm: 'HS512', noTimestamp: true });
    for (const token of [unsigned, otherKey, hs512, 'garbage', `${first.accessToken}x`]) {
      const res = await t.http.get('/api/v1/me').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await t.http.get('/api/v1/me')).status).toBe(401);
  });

  it('rotates the pair; concurrent refreshes within the grace window get the same new pair', async () => {
    const [a, b] = await Promise.all([
      t.http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }),
      t.http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.refreshToken).not.toBe(first.refreshToken);
    expect(b.body).toEqual(a.body);
    expect((await t.http.get('/api/v1/me').set(bearer(a.body))).status).toBe(200);
  });

  it('ends the whole session when a rotated refresh token is replayed after the grace window', async () => {
    const second = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken });
    const current: Tokens = second.body;
    const third = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: current.refreshToken });
    expect(third.status).toBe(200);
    const live: Tokens = third.body;
    expect((await t.http.get('/api/v1/me').set(bearer(live))).status).toBe(200);

    // Let the grace window pass without waiting for it: the last rotation moves into the past.
    const sid = (jwt.decode(live.accessToken) as { sid: string }).sid;
    await t.app
      .get(DataSource)
      .query(`UPDATE sessions SET rotated_at = rotated_at - make_interval(secs => $2) WHERE id = $1`, [
        sid,
        GRACE_SECONDS + 1,
      ]);
    const replay = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: current.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('INVALID_TOKEN');

    // The access token of the session is refused on the very next request, though unexpired.
    const me = await t.http.get('/api/v1/me').set(bearer(live));
    expect(me.status).toBe(401);
    expect((await t.http.post('/api/v1/auth/refresh').send({ refreshToken: live.refreshToken })).status).toBe(401);

    const relogin = await t.http.post('/api/v1/auth/login').send({ email, password });
    const activity = await t.http.get('/api/v1/me/activity').set(bearer(relogin.body));
    expect(activity.body.items.map((a: { type: string }) => a.type)).toEqual(
      expect.arrayContaining(['refresh_token_reused', 'token_refreshed', 'login']),
    );
  });

  it('lists sessions, ends the others, and logs out', async () => {
    const one = (await t.http.post('/api/v1/auth/login').send({ email, password })).body as Tokens;
    const two = (await t.http.post('/api/v1/auth/login').send({ email, password })).body as Tokens;
    const list = await t.http.get('/api/v1/me/sessions').set(bearer(one));
    expect(list.status).toBe(200);
    expect(list.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(list.body.items.length).toBeGreaterThanOrEqual(2);

    const ended = await t.http.delete('/api/v1/me/sessions').set(bearer(one));
    expect(ended.status).toBe(200);
    expect(ended.body.revoked).toBeGreaterThanOrEqual(1);
    expect((await t.http.get('/api/v1/me').set(bearer(two))).status).toBe(401);
    expect((await t.http.get('/api/v1/me').set(bearer(one))).status).toBe(200);

    expect((await t.http.post('/api/v1/auth/logout').set(bearer(one))).status).toBe(204);
    expect((await t.http.get('/api/v1/me').set(bearer(one))).status).toBe(401);
  });

  it('changes the password with the current one, refusing reuse and ending other sessions', async () => {
    const a = (await t.http.post('/api/v1/auth/login').send({ email, password })).body as Tokens;
    const b = (await t.http.post('/api/v1/auth/login').send({ email, password })).body as Tokens;
    const wrong = await t.http
      .post('/api/v1/me/password')
      .set(bearer(a))
      .send({ currentPassword: 'nope', newPassword: 'purple elephants dance quietly' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].field).toBe('currentPassword');

    const reuse = await t.http
      .post('/api/v1/me/password')
      .set(bearer(a))
      .send({ currentPassword: password, newPassword: password });
    expect(reuse.status).toBe(400);
    expect(reuse.body.rules).toContain('reused');

    const next = 'purple elephants dance quietly';
    const changed = await t.http
      .post('/api/v1/me/password')
      .set(bearer(a))
      .send({ currentPassword: password, newPassword: next });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ otherSessionsEnded: 1, revokedApiKeys: [] });
    expect((await t.http.get('/api/v1/me').set(bearer(b))).status).toBe(401);
    expect((await t.http.get('/api/v1/me').set(bearer(a))).status).toBe(200);
    expect((await t.http.post('/api/v1/auth/login').send({ email, password })).status).toBe(401);
    expect((await t.http.post('/api/v1/auth/login').send({ email, password: next })).status).toBe(200);
  });
});
