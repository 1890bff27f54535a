import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * A lock blocks sign-in and nothing else, and ends by itself: someone typing wrong passwords for
 * another person's email must not cut that person's live sessions and API keys, and the account
 * signs in again once the lock expires, without an administrator.
 */
describe('lockout: sign-in only, self-expiring', () => {
  const LOCK_SECONDS = 3;
  let t: TestApp;
  let root: Tokens;

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      LOCKOUT_BASE_SECONDS: String(LOCK_SECONDS),
      LOCKOUT_MAX_SECONDS: String(LOCK_SECONDS),
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t?.close());

  const attempt = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });

  /** A key of the victim's. Sends the password too where key creation asks to re-confirm it. */
  async function createKey(tokens: Tokens, password: string): Promise<string> {
    const body = {
      name: 'victim-integration',
      scopes: ['portfolios:read'],
      expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    };
    let res = await t.http.post('/api/v1/api-keys').set(bearer(tokens)).send(body);
    if (res.status === 400 && JSON.stringify(res.body.errors ?? []).includes('password')) {
      res = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(tokens))
        .send({ ...body, password });
    }
    expect(res.status).toBe(201);
    return res.body.secret as string;
  }

  it("keeps the victim's sessions and keys working while the lock refuses sign-in, then lifts it by itself", async () => {
    const victim = await createUser(t, root, ['trader']);
    const key = await createKey(victim.tokens, victim.password);

    // The attacker: five wrong passwords.
    for (let i = 0; i < 5; i++) expect((await attempt(victim.email, `guess-${i}-password`)).status).toBe(401);
    const lockedAt = Date.now();
    const refused = await attempt(victim.email, victim.password);
    // Only meaningful while the lock is surely in force.
    expect(Date.now() - lockedAt).toBeLessThan(LOCK_SECONDS * 1000);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('INVALID_CREDENTIALS');

    // The victim is not cut off: session, refresh and key all keep working.
    expect((await t.http.get('/api/v1/me').set(bearer(victim.tokens))).status).toBe(200);
    expect((await t.http.get('/api/v1/portfolios').set({ 'X-API-Key': key })).status).toBe(200);
    const refreshed = await t.http.post('/api/v1/auth/refresh').send({ refreshToken: victim.tokens.refreshToken });
    expect(refreshed.status).toBe(200);

    // The lock lives on the credential; the status is untouched.
    const view = (await t.http.get(`/api/v1/users/${victim.id}`).set(bearer(root))).body;
    expect(view.status).toBe('active');
    expect(Date.parse(view.lockedUntil)).toBeGreaterThan(lockedAt - 1000);

    // Recorded in activity and in the audit log.
    const activity = await t.http.get(`/api/v1/users/${victim.id}/activity`).set(bearer(root));
    const locked = activity.body.items.find((a: { type: string }) => a.type === 'account_locked');
    expect(locked).toMatchObject({ details: { until: view.lockedUntil, level: 1 } });
    const audit = await t.http
      .get('/api/v1/audit-events')
      .query({ targetId: victim.id, action: 'auth.account_locked' })
      .set(bearer(root));
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ actorType: 'system', details: { until: view.lockedUntil } });

    // Without any admin, the right password works again once the lock has expired.
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await attempt(victim.email, victim.password)).status;
    }
    expect(status).toBe(200);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(view.lockedUntil));
    const after = (await t.http.get(`/api/v1/users/${victim.id}`).set(bearer(root))).body;
    expect(after).toMatchObject({ status: 'active', lockedUntil: null });
    const unlocks = await t.http
      .get('/api/v1/audit-events')
      .query({ targetId: victim.id, action: 'user.unlocked' })
      .set(bearer(root));
    expect(unlocks.body.items).toHaveLength(0);
  });

  it('lets an admin lift a lock early without changing the status', async () => {
    const user = await createUser(t, root, ['viewer']);
    for (let i = 0; i < 5; i++) await attempt(user.email, `guess-${i}-password`);
    expect((await t.http.get('/api/v1/users').query({ q: user.email }).set(bearer(root))).body.items[0]).toMatchObject({
      status: 'active',
      lockedUntil: expect.any(String),
    });
    const unlock = await t.http.post(`/api/v1/users/${user.id}/unlock`).set(bearer(root));
    expect(unlock.status).toBe(200);
    expect(unlock.body).toMatchObject({ status: 'active', lockedUntil: null });
    expect((await attempt(user.email, user.password)).status).toBe(200);
    const audit = await t.http
      .get('/api/v1/audit-events')
      .query({ targetId: user.id, action: 'user.unlocked' })
      .set(bearer(root));
    expect(audit.body.items[0].details).toMatchObject({ wasLockedUntil: expect.any(String) });
  });
});
