import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';
import { stepNow, totp } from '../support/totp';

/*
 * Issue 8, items 1, 2, 3 and 5: what a stolen API key or a stolen session can do. A key never does
 * more than its scopes, account routes are for people, creating a key is a re-confirmed change,
 * and keys obey the MFA policy.
 */

const VIEWER = ['portfolios:read', 'trades:read', 'prices:read', 'monitoring:read', 'reports:read', 'roles:read'];
const TRADER = [...VIEWER, 'portfolios:create', 'portfolios:update', 'trades:write'];

type User = Awaited<ReturnType<typeof createUser>>;
interface Key {
  id: string;
  secret: string;
  prefix: string;
  name: string;
  expiresAt: string | null;
}

describe('API keys and account routes under attack', () => {
  let t: TestApp;
  let root: Tokens;
  let admin: User;

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      MFA_REQUIRED_ROLES: 'auditor',
      LOCKOUT_THRESHOLD: '3',
      THREAT_BRUTE_FORCE_FAILURES: '3',
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    admin = await createUser(t, root, ['admin']);
  });
  afterAll(() => t?.close());

  const withKey = (key: Key | string) => ({ 'X-API-Key': typeof key === 'string' ? key : key.secret });

  async function createKey(tokens: Tokens, password: string, body: Record<string, unknown>): Promise<Key> {
    const res = await t.http
      .post('/api/v1/api-keys')
      .set(bearer(tokens))
      .send({ name: 'integration', password, ...body });
    if (res.status !== 201) throw new Error(`create key answered ${res.status}: ${res.text}`);
    return res.body as Key;
  }
  const rootKey = (scopes: string[]) => createKey(root, ADMIN_PASSWORD, { scopes });

  async function auditOf(query: Record<string, string>) {
    const res = await t.http.get('/api/v1/audit-events').query(query).set(bearer(root));
    expect(res.status).toBe(200);
    return res.body.items as { action: string; outcome: string; actorType: string; actorId: string; details: object }[];
  }

  async function enrolAndActivate(tokens: Tokens): Promise<{ secret: string; step: number }> {
    const enrol = await t.http.post('/api/v1/me/mfa/totp').set(bearer(tokens));
    expect(enrol.status).toBe(201);
    const secret = enrol.body.secret as string;
    const step = stepNow();
    const res = await t.http
      .post('/api/v1/me/mfa/totp/activate')
      .set(bearer(tokens))
      .send({ code: totp(secret, step) });
    expect(res.status).toBe(200);
    return { secret, step };
  }

  describe('1. a key never does more than its scopes', () => {
    it('a super_admin key scoped users:create cannot create a super_admin, and the attempt is audited as denied', async () => {
      const key = await rootKey(['users:create']);
      const res = await t.http
        .post('/api/v1/users')
        .set(withKey(key))
        .send({
          email: 'minted-root@example.com',
          password: 'Quiet-Orchard-Minted-1',
          firstName: 'Minted',
          lastName: 'Root',
          roles: ['super_admin'],
        });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ROLE_NOT_GRANTABLE');
      const users = await t.http.get('/api/v1/users').query({ q: 'minted-root' }).set(bearer(root));
      expect(users.body.items).toEqual([]);
      const denied = await auditOf({ actorId: key.id, outcome: 'denied' });
      expect(denied).toEqual([
        expect.objectContaining({
          action: 'user.created',
          actorType: 'api_key',
          details: expect.objectContaining({ roles: ['super_admin'] }),
        }),
      ]);
      // Not even a viewer: the key holds none of a viewer's permissions.
      const viewer = await t.http.post('/api/v1/users').set(withKey(key)).send({
        email: 'minted-viewer@example.com',
        password: 'Quiet-Orchard-Minted-2',
        firstName: 'Minted',
        lastName: 'Viewer',
      });
      expect(viewer.status).toBe(403);
    });

    it('a key scoped users:manage-roles grants only roles whose every permission is in its scopes', async () => {
      const target = await createUser(t, root, ['viewer']);
      const narrow = await rootKey(['users:manage-roles']);
      for (const roles of [['admin'], ['super_admin'], ['trader']]) {
        const res = await t.http.put(`/api/v1/users/${target.id}/roles`).set(withKey(narrow)).send({ roles });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('ROLE_NOT_GRANTABLE');
      }
      expect((await t.http.get(`/api/v1/users/${target.id}`).set(bearer(root))).body.roles).toEqual(['viewer']);
      expect((await auditOf({ actorId: narrow.id, outcome: 'denied', action: 'user.roles_changed' })).length).toBe(3);

      // A key that carries every permission of trader (and manages roles) may grant trader, not analyst.
      const wide = await rootKey(['users:manage-roles', ...TRADER]);
      const granted = await t.http
        .put(`/api/v1/users/${target.id}/roles`)
        .set(withKey(wide))
        .send({ roles: ['trader'] });
      expect(granted.status).toBe(200);
      expect(granted.body.roles).toEqual(['trader']);
      const analyst = await t.http
        .put(`/api/v1/users/${target.id}/roles`)
        .set(withKey(wide))
        .send({ roles: ['trader', 'analyst'] });
      expect(analyst.status).toBe(403);
    });

    it('a key acts only on users whose permissions it carries', async () => {
      const trader = await createUser(t, root, ['trader']);
      const viewer = await createUser(t, root, ['viewer']);
      const statusOnly = await createKey(admin.tokens, admin.password, { scopes: ['users:manage-status'] });
      const suspend = (id: string, key: Key) =>
        t.http.post(`/api/v1/users/${id}/status`).set(withKey(key)).send({ status: 'suspended', reason: 'key' });

      const refused = await suspend(trader.id, statusOnly);
      expect(refused.status).toBe(403);
      expect((await t.http.get(`/api/v1/users/${trader.id}`).set(bearer(root))).body.status).toBe('active');
      expect(await auditOf({ actorId: statusOnly.id, outcome: 'denied' })).toEqual([
        expect.objectContaining({ action: 'user.status_changed', actorType: 'api_key' }),
      ]);

      const viewerLevel = await createKey(admin.tokens, admin.password, { scopes: ['users:manage-status', ...VIEWER] });
      expect((await suspend(viewer.id, viewerLevel)).status).toBe(200);
      expect((await suspend(trader.id, viewerLevel)).status).toBe(403);
    });

    it('a key cannot grant through groups what its scopes lack', async () => {
      const key = await rootKey(['groups:manage']);
      const escalate = await t.http
        .post('/api/v1/groups')
        .set(withKey(key))
        .send({ name: 'escalation', permissions: ['users:manage-roles'] });
      expect(escalate.status).toBe(403);
      const group = await t.http
        .post('/api/v1/groups')
        .set(bearer(root))
        .send({ name: 'auditors', permissions: ['audit:read'] });
      expect(group.status).toBe(201);
      const someone = await createUser(t, root, ['viewer']);
      const join = await t.http.put(`/api/v1/groups/${group.body.id}/members/${someone.id}`).set(withKey(key));
      expect(join.status).toBe(403);
      expect((await auditOf({ actorId: key.id, outcome: 'denied' })).map((e) => e.action).sort()).toEqual([
        'group.created',
        'group.member_added',
      ]);
    });
  });

  describe('2. account routes are for people', () => {
    it('answers 403 to an API key on every /me route and on API-key management', async () => {
      const owner = await createUser(t, root, ['trader']);
      const key = await createKey(owner.tokens, owner.password, { scopes: TRADER });
      const calls = [
        t.http.get('/api/v1/me'),
        t.http.patch('/api/v1/me').send({ firstName: 'Key' }),
        t.http
          .post('/api/v1/me/password')
          .send({ currentPassword: owner.password, newPassword: 'Quiet-Orchard-New-9' }),
        t.http.get('/api/v1/me/sessions'),
        t.http.delete('/api/v1/me/sessions'),
        t.http.delete(`/api/v1/me/sessions/${owner.id}`),
        t.http.get('/api/v1/me/activity'),
        t.http.get('/api/v1/me/mfa'),
        t.http.post('/api/v1/me/mfa/totp'),
        t.http.post('/api/v1/me/mfa/totp/activate').send({ code: '123456' }),
        t.http.delete('/api/v1/me/mfa/totp').send({ password: owner.password, code: '123456' }),
        t.http.get('/api/v1/api-keys'),
        t.http.post('/api/v1/api-keys').send({ name: 'x', scopes: ['roles:read'], password: owner.password }),
        t.http.delete(`/api/v1/api-keys/${key.id}`),
      ];
      for (const [i, call] of calls.entries()) {
        const res = await call.set(withKey(key));
        expect({ call: i, status: res.status, code: res.body.code }).toEqual({
          call: i,
          status: 403,
          code: 'SESSION_REQUIRED',
        });
      }
      // Nothing happened: the key still works, the name and password are unchanged.
      expect((await t.http.get('/api/v1/portfolios').set(withKey(key))).status).toBe(200);
      expect((await t.http.get('/api/v1/me').set(bearer(owner.tokens))).body.firstName).toBe('Test');
      await login(t, owner.email, owner.password);
    });

    it('counts a wrong current password on any re-confirmation as a failed login: lockout and threat detection', async () => {
      const victim = await createUser(t, root, ['trader']);
      const wrong = 'Not-The-Password-123';
      const change = await t.http
        .post('/api/v1/me/password')
        .set(bearer(victim.tokens))
        .send({ currentPassword: wrong, newPassword: 'Quiet-Orchard-Next-1' });
      expect(change.status).toBe(400);
      const key = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(victim.tokens))
        .send({ name: 'x', scopes: ['roles:read'], password: wrong });
      expect(key.status).toBe(400);
      const again = await t.http
        .post('/api/v1/me/password')
        .set(bearer(victim.tokens))
        .send({ currentPassword: wrong, newPassword: 'Quiet-Orchard-Next-1' });
      expect(again.status).toBe(400);

      // Three failures (LOCKOUT_THRESHOLD=3): the right password no longer signs in.
      const res = await t.http.post('/api/v1/auth/login').send({ email: victim.email, password: victim.password });
      expect(res.status).toBe(401);
      const activity = await t.http.get(`/api/v1/users/${victim.id}/activity`).set(bearer(root));
      const failures = (activity.body.items as { type: string; details: { reason: string } }[]).filter(
        (a) => a.type === 'login_failed',
      );
      expect(failures.map((a) => a.details.reason)).toEqual(
        expect.arrayContaining(['wrong_current_password', 'wrong_current_password', 'locked']),
      );
      expect(activity.body.items.some((a: { type: string }) => a.type === 'account_locked')).toBe(true);

      // THREAT_BRUTE_FORCE_FAILURES=3: the detector saw them too (it runs after the answer).
      let events: { type: string; userId: string }[] = [];
      for (let i = 0; i < 50 && !events.some((e) => e.type === 'brute_force'); i++) {
        const list = await t.http.get('/api/v1/security/events').query({ userId: victim.id }).set(bearer(root));
        events = list.body.items;
        if (!events.some((e) => e.type === 'brute_force')) await new Promise((r) => setTimeout(r, 100));
      }
      expect(events).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'brute_force' })]));
    });

    it('counts a wrong password when turning MFA off', async () => {
      const user = await createUser(t, root, ['trader']);
      await enrolAndActivate(user.tokens);
      for (let i = 0; i < 3; i++) {
        const res = await t.http
          .delete('/api/v1/me/mfa/totp')
          .set(bearer(user.tokens))
          .send({ password: 'Not-The-Password-123', code: '000000' });
        if (res.status === 401) break; // locked under the lockout that ends sessions
        expect(res.status).toBe(400);
      }
      const res = await t.http.post('/api/v1/auth/login').send({ email: user.email, password: user.password });
      expect(res.status).toBe(401);
    });
  });

  describe('3. creating a key is a sensitive change', () => {
    it('needs the password, refuses a wrong one, and audits the creation', async () => {
      const owner = await createUser(t, root, ['trader']);
      const none = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(owner.tokens))
        .send({ name: 'x', scopes: ['roles:read'] });
      expect(none.status).toBe(400);
      const key = await createKey(owner.tokens, owner.password, { scopes: ['roles:read'] });
      const audit = await auditOf({ action: 'api_key.created', targetId: key.id });
      expect(audit).toEqual([expect.objectContaining({ outcome: 'success', actorType: 'user' })]);
      expect(JSON.stringify(audit)).not.toContain(owner.password);
    });

    it('takes a fresh TOTP code instead of the password from an MFA user, once', async () => {
      const user = await createUser(t, root, ['trader']);
      const { secret, step } = await enrolAndActivate(user.tokens);
      const tokens = user.tokens;
      // The next step's code (one step of drift is accepted): the activation spent this one.
      const code = totp(secret, step + 1);
      const created = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(tokens))
        .send({ name: 'mfa', scopes: ['roles:read'], code });
      expect(created.status).toBe(201);
      const replayed = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(tokens))
        .send({ name: 'mfa', scopes: ['roles:read'], code });
      expect(replayed.status).toBe(400);
    });

    it('expires within API_KEY_MAX_TTL_DAYS (365) by default and refuses keys without expiry', async () => {
      const key = await rootKey(['roles:read']);
      const days = (Date.parse(key.expiresAt!) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(364.9);
      expect(days).toBeLessThanOrEqual(365);
      const forever = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(root))
        .send({ name: 'forever', scopes: ['roles:read'], password: ADMIN_PASSWORD, expiresAt: null });
      expect(forever.status).toBe(400);
      const tooLong = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(root))
        .send({
          name: 'long',
          scopes: ['roles:read'],
          password: ADMIN_PASSWORD,
          expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString(),
        });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.errors[0].field).toBe('expiresAt');
    });

    it('revokes the keys on a password change with revokeApiKeys and lists them', async () => {
      const owner = await createUser(t, root, ['trader']);
      const a = await createKey(owner.tokens, owner.password, { scopes: ['roles:read'], name: 'a' });
      const b = await createKey(owner.tokens, owner.password, { scopes: ['roles:read'], name: 'b' });
      const kept = await t.http
        .post('/api/v1/me/password')
        .set(bearer(owner.tokens))
        .send({ currentPassword: owner.password, newPassword: 'Quiet-Orchard-Second-2' });
      expect(kept.status).toBe(200);
      expect(kept.body.revokedApiKeys).toEqual([]);
      expect((await t.http.get('/api/v1/roles').set(withKey(a))).status).toBe(200);

      const res = await t.http
        .post('/api/v1/me/password')
        .set(bearer(owner.tokens))
        .send({ currentPassword: 'Quiet-Orchard-Second-2', newPassword: 'Quiet-Orchard-Third-3', revokeApiKeys: true });
      expect(res.status).toBe(200);
      expect(res.body.revokedApiKeys.map((k: { id: string }) => k.id).sort()).toEqual([a.id, b.id].sort());
      expect(res.body.revokedApiKeys[0]).toEqual({
        id: expect.any(String),
        name: expect.any(String),
        prefix: expect.any(String),
      });
      for (const k of [a, b]) expect((await t.http.get('/api/v1/roles').set(withKey(k))).status).toBe(401);
    });

    it('revokes the keys when signing out everywhere with revokeApiKeys', async () => {
      const owner = await createUser(t, root, ['trader']);
      const key = await createKey(owner.tokens, owner.password, { scopes: ['roles:read'] });
      const other = await login(t, owner.email, owner.password);
      const res = await t.http.delete('/api/v1/me/sessions').query({ revokeApiKeys: true }).set(bearer(owner.tokens));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: 1, revokedApiKeys: [{ id: key.id, name: key.name, prefix: key.prefix }] });
      expect((await t.http.get('/api/v1/roles').set(withKey(key))).status).toBe(401);
      expect((await t.http.get('/api/v1/me').set(bearer(other))).status).toBe(401);
    });

    it('revokes the keys of a user an admin suspends, for good', async () => {
      const owner = await createUser(t, root, ['trader']);
      const key = await createKey(owner.tokens, owner.password, { scopes: ['roles:read'] });
      const setStatus = (status: string) =>
        t.http.post(`/api/v1/users/${owner.id}/status`).set(bearer(admin.tokens)).send({ status, reason: 'review' });
      expect((await setStatus('suspended')).status).toBe(200);
      expect((await setStatus('active')).status).toBe(200);
      expect((await t.http.get('/api/v1/roles').set(withKey(key))).status).toBe(401);
      const listed = await t.http.get('/api/v1/api-keys').query({ ownerId: owner.id }).set(bearer(admin.tokens));
      expect(listed.body.items[0]).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
      expect(await auditOf({ action: 'api_key.revoked', targetId: key.id })).toEqual([
        expect.objectContaining({ details: expect.objectContaining({ reason: 'status_suspended' }) }),
      ]);
    });
  });

  describe('5. keys obey the MFA policy', () => {
    it('refuses the key of a user whose role requires MFA until they enrol', async () => {
      const owner = await createUser(t, root, ['trader']);
      const key = await createKey(owner.tokens, owner.password, { scopes: ['roles:read', 'portfolios:read'] });
      expect((await t.http.get('/api/v1/roles').set(withKey(key))).status).toBe(200);
      await t.http
        .put(`/api/v1/users/${owner.id}/roles`)
        .set(bearer(root))
        .send({ roles: ['trader', 'auditor'] })
        .expect(200);
      const blocked = await t.http.get('/api/v1/roles').set(withKey(key));
      expect(blocked.status).toBe(403);
      expect(blocked.body.code).toBe('MFA_ENROLMENT_REQUIRED');
      await enrolAndActivate(owner.tokens);
      expect((await t.http.get('/api/v1/roles').set(withKey(key))).status).toBe(200);
    });
  });
});
