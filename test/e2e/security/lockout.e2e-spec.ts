import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

describe('lockout, generic login failures and approval of registrations', () => {
  let t: TestApp;
  let root: Tokens;

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, REGISTRATION_MODE: 'approval' });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t?.close());

  const attempt = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });
  const shape = (res: { status: number; body: Record<string, unknown> }) => ({
    status: res.status,
    code: res.body.code,
    title: res.body.title,
    detail: res.body.detail,
  });

  it('answers unknown emails, wrong passwords and inactive accounts identically', async () => {
    const user = await createUser(t, root, ['trader']);
    const unknown = shape(await attempt('nobody@example.com', 'whatever-password'));
    const wrong = shape(await attempt(user.email, 'not-the-password'));
    await t.http
      .post(`/api/v1/users/${user.id}/status`)
      .set(bearer(root))
      .send({ status: 'inactive', reason: 'left' })
      .expect(200);
    const inactive = shape(await attempt(user.email, user.password));
    expect(unknown).toEqual({
      status: 401,
      code: 'INVALID_CREDENTIALS',
      title: 'Invalid credentials',
      detail: 'Invalid email or password.',
    });
    expect(wrong).toEqual(unknown);
    expect(inactive).toEqual(unknown);
  });

  it('locks after five wrong passwords, refuses the right one alike, and unlocks by an admin', async () => {
    const user = await createUser(t, root, ['trader']);
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, `wrong-${i}-password`)).status).toBe(401);

    const locked = await attempt(user.email, user.password);
    expect(shape(locked)).toEqual({
      status: 401,
      code: 'INVALID_CREDENTIALS',
      title: 'Invalid credentials',
      detail: 'Invalid email or password.',
    });
    const view = await t.http.get(`/api/v1/users/${user.id}`).set(bearer(root));
    expect(view.body.status).toBe('active'); // the lock is on the credential, not the status
    expect(Date.parse(view.body.lockedUntil)).toBeGreaterThan(Date.now());

    const unlock = await t.http.post(`/api/v1/users/${user.id}/unlock`).set(bearer(root));
    expect(unlock.status).toBe(200);
    expect(unlock.body).toMatchObject({ status: 'active', lockedUntil: null });
    expect((await attempt(user.email, user.password)).status).toBe(200);

    const activity = await t.http.get(`/api/v1/users/${user.id}/activity`).set(bearer(root));
    const types = activity.body.items.map((a: { type: string }) => a.type);
    expect(types).toEqual(expect.arrayContaining(['account_locked', 'account_unlocked', 'login_failed', 'login']));
    const failure = activity.body.items.find((a: { type: string }) => a.type === 'login_failed');
    expect(failure).toMatchObject({ ip: expect.any(String), details: { reason: expect.any(String) } });

    const audit = await t.http.get('/api/v1/audit-events').query({ targetId: user.id }).set(bearer(root));
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.account_locked', 'user.unlocked']));
    expect(JSON.stringify(audit.body)).not.toContain(user.password);
  });

  it('resets the failure count on success', async () => {
    const user = await createUser(t, root, ['viewer']);
    for (let i = 0; i < 4; i++) await attempt(user.email, 'nope-nope-nope');
    expect((await attempt(user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 4; i++) await attempt(user.email, 'nope-nope-nope');
    expect((await attempt(user.email, user.password)).status).toBe(200);
  });

  it('keeps a registration pending until an admin activates it', async () => {
    const password = 'seven lanterns over the harbour';
    const reg = await t.http
      .post('/api/v1/auth/register')
      .send({ email: 'newbie@example.com', password, firstName: 'New', lastName: 'Bie' });
    expect(reg.status).toBe(201);
    expect(reg.body.status).toBe('pending');
    expect((await attempt('newbie@example.com', password)).body.code).toBe('INVALID_CREDENTIALS');
    const pending = await t.http.get('/api/v1/users').query({ status: 'pending' }).set(bearer(root));
    expect(pending.body.items.map((u: { email: string }) => u.email)).toContain('newbie@example.com');
    await t.http
      .post(`/api/v1/users/${reg.body.id}/status`)
      .set(bearer(root))
      .send({ status: 'active', reason: 'approved' })
      .expect(200);
    expect((await attempt('newbie@example.com', password)).status).toBe(200);
  });
});
