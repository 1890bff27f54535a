import { DataSource } from 'typeorm';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';
// An independent RFC 6238 implementation (node:crypto only): the app's TOTP is checked against the standard.
import { base32Bytes, hotp, stepNow, totp } from '../support/totp';

interface Enrolment {
  secret: string;
  otpauthUrl: string;
  qrCode: string;
}

describe('TOTP multi-factor authentication', () => {
  let t: TestApp;
  let root: Tokens;

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      MFA_REQUIRED_ROLES: 'auditor',
      // Above the 5 attempts a challenge allows, so a burnt challenge and a lockout can be told apart.
      LOCKOUT_THRESHOLD: '7',
      RATE_LIMIT_AUTH_PER_MINUTE: '1000',
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t?.close());

  const attemptLogin = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });
  const verify = (mfaToken: string, code: string) => t.http.post('/api/v1/auth/mfa/verify').send({ mfaToken, code });

  /** Password step of a user with MFA: the challenge token. */
  async function challenge(user: { email: string; password: string }): Promise<string> {
    const res = await attemptLogin(user.email, user.password);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresIn: 300 });
    return res.body.mfaToken as string;
  }

  async function enrolAndActivate(tokens: Tokens): Promise<{ secret: string; step: number; recoveryCodes: string[] }> {
    const enrol = await t.http.post('/api/v1/me/mfa/totp').set(bearer(tokens));
    expect(enrol.status).toBe(201);
    const secret = (enrol.body as Enrolment).secret;
    const step = stepNow();
    const res = await t.http
      .post('/api/v1/me/mfa/totp/activate')
      .set(bearer(tokens))
      .send({ code: totp(secret, step) });
    expect(res.status).toBe(200);
    return { secret, step, recoveryCodes: res.body.recoveryCodes as string[] };
  }

  it('computes RFC 6238 codes in the test itself (SHA-1 vectors of appendix B)', () => {
    const secret = '12345678901234567890';
    const key = Buffer.from(secret);
    expect(hotp(key, Math.floor(59 / 30))).toBe('287082');
    expect(hotp(key, Math.floor(1111111109 / 30))).toBe('081804');
    expect(hotp(key, Math.floor(1234567890 / 30))).toBe('005924');
    expect(base32Bytes('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ').toString()).toBe(secret);
  });

  describe('a trader', () => {
    let trader: Awaited<ReturnType<typeof createUser>>;
    let secret: string;
    let activationStep: number;
    let recoveryCodes: string[];

    beforeAll(async () => {
      trader = await createUser(t, root, ['trader']);
    });

    it('enrols: a base32 secret, an otpauth URL and a PNG QR code; enrolling again replaces the secret', async () => {
      const first = await t.http.post('/api/v1/me/mfa/totp').set(bearer(trader.tokens));
      expect(first.status).toBe(201);
      const body = first.body as Enrolment;
      expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
      const url = new URL(body.otpauthUrl);
      expect(url.protocol).toBe('otpauth:');
      expect(url.host).toBe('totp');
      expect(decodeURIComponent(url.pathname)).toBe(`/Bastion:${trader.email}`);
      expect(Object.fromEntries(url.searchParams)).toEqual({
        secret: body.secret,
        issuer: 'Bastion',
        algorithm: 'SHA1',
        digits: '6',
        period: '30',
      });
      expect(body.qrCode).toMatch(/^data:image\/png;base64,/);
      expect(Buffer.from(body.qrCode.split(',')[1], 'base64').subarray(1, 4).toString()).toBe('PNG');

      const status = await t.http.get('/api/v1/me/mfa').set(bearer(trader.tokens));
      expect(status.body).toEqual({
        enabled: false,
        enrolledAt: null,
        pendingEnrolment: true,
        recoveryCodesRemaining: 0,
        required: false,
      });
      // Until activation, sign-in is unchanged.
      expect((await attemptLogin(trader.email, trader.password)).body).toHaveProperty('accessToken');

      const second = await t.http.post('/api/v1/me/mfa/totp').set(bearer(trader.tokens));
      expect(second.status).toBe(201);
      secret = (second.body as Enrolment).secret;
      expect(secret).not.toBe(body.secret);
      // The replaced secret no longer activates.
      const stale = await t.http
        .post('/api/v1/me/mfa/totp/activate')
        .set(bearer(trader.tokens))
        .send({ code: totp(body.secret, stepNow()) });
      expect(stale.status).toBe(400);
      expect(stale.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: 'code' }] });
    });

    it('stores the secret encrypted, not as plaintext', async () => {
      const rows = await t.app
        .get(DataSource)
        .query<{ secret_enc: string }[]>('SELECT secret_enc FROM mfa_totp WHERE user_id = $1', [trader.id]);
      expect(rows).toHaveLength(1);
      const stored = rows[0].secret_enc;
      // A ciphertext of the internal key bastion-totp: bastion:v<N>:<base64(nonce ‖ ciphertext ‖ tag)>.
      expect(stored).toMatch(/^bastion:v1:[A-Za-z0-9+/]+=*$/);
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(base32Bytes(secret).toString('base64'));
      expect(Buffer.from(stored.split(':')[2], 'base64').toString('latin1')).not.toContain(secret);
    });

    it('activates with a valid code and returns ten distinct recovery codes, once', async () => {
      const wrong = await t.http
        .post('/api/v1/me/mfa/totp/activate')
        .set(bearer(trader.tokens))
        .send({ code: totp(secret, stepNow() + 5) });
      expect(wrong.status).toBe(400);

      activationStep = stepNow();
      const res = await t.http
        .post('/api/v1/me/mfa/totp/activate')
        .set(bearer(trader.tokens))
        .send({ code: totp(secret, activationStep) });
      expect(res.status).toBe(200);
      recoveryCodes = res.body.recoveryCodes;
      expect(recoveryCodes).toHaveLength(10);
      expect(new Set(recoveryCodes).size).toBe(10);
      for (const code of recoveryCodes) expect(code).toMatch(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);

      const rows = await t.app
        .get(DataSource)
        .query<{ code_hash: string }[]>('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = $1', [trader.id]);
      expect(rows).toHaveLength(10);
      for (const row of rows) expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(rows)).not.toContain(recoveryCodes[0].replace(/-/g, ''));

      const again = await t.http
        .post('/api/v1/me/mfa/totp/activate')
        .set(bearer(trader.tokens))
        .send({ code: totp(secret, activationStep + 1) });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('MFA_ALREADY_ENABLED');
      const reenrol = await t.http.post('/api/v1/me/mfa/totp').set(bearer(trader.tokens));
      expect(reenrol.status).toBe(409);
      expect(reenrol.body.code).toBe('MFA_ALREADY_ENABLED');

      const status = await t.http.get('/api/v1/me/mfa').set(bearer(trader.tokens));
      expect(status.body).toMatchObject({ enabled: true, pendingEnrolment: false, recoveryCodesRemaining: 10 });
      expect(Date.parse(status.body.enrolledAt)).toBeGreaterThan(Date.now() - 60_000);
      const me = await t.http.get('/api/v1/me').set(bearer(trader.tokens));
      expect(me.body).toMatchObject({ mfaEnabled: true, mfaEnrolmentRequired: false });
    });

    let firstLoginCode: string;

    it('asks for a second factor at sign-in, and the code of the next step completes it', async () => {
      const mfaToken = await challenge(trader);
      const wrong = await verify(mfaToken, totp(secret, activationStep + 7));
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: 'INVALID_MFA_CODE', attemptsRemaining: 4 });

      // The activation code was spent: the next 30 s window (one step of drift) is the only fresh one.
      firstLoginCode = totp(secret, activationStep + 1);
      const res = await verify(mfaToken, firstLoginCode);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) });
      const me = await t.http.get('/api/v1/me').set(bearer(res.body.accessToken));
      expect(me.status).toBe(200);
      expect(me.body.email).toBe(trader.email);

      // The mfaToken is single use, even with a good code.
      const reuse = await verify(mfaToken, recoveryCodes[9]);
      expect(reuse.status).toBe(401);
      expect(reuse.body.code).toBe('INVALID_TOKEN');

      const activity = await t.http.get('/api/v1/me/activity').set(bearer(res.body.accessToken));
      const types = activity.body.items.map((a: { type: string; details: Record<string, unknown> }) => [
        a.type,
        a.details.reason ?? a.details.mfa,
      ]);
      expect(types).toEqual(
        expect.arrayContaining([
          ['login', 'totp'],
          ['login_failed', 'mfa_failed'],
          ['mfa_enabled', undefined],
        ]),
      );
    });

    it('refuses a replayed code, and the spent activation code, on a new sign-in', async () => {
      const mfaToken = await challenge(trader);
      const replay = await verify(mfaToken, firstLoginCode);
      expect(replay.status).toBe(401);
      expect(replay.body).toMatchObject({ code: 'INVALID_MFA_CODE', attemptsRemaining: 4 });
      const older = await verify(mfaToken, totp(secret, activationStep));
      expect(older.status).toBe(401);
      expect(older.body).toMatchObject({ code: 'INVALID_MFA_CODE', attemptsRemaining: 3 });

      const audit = await t.http
        .get('/api/v1/audit-events')
        .query({ action: 'auth.login', outcome: 'failure', targetId: trader.id })
        .set(bearer(root));
      const failures = audit.body.items.map((e: { details: Record<string, unknown> }) => e.details);
      expect(failures).toEqual(
        expect.arrayContaining([expect.objectContaining({ reason: 'mfa_failed', failure: 'replayed' })]),
      );
    });

    it('accepts a recovery code once (any case, with or without hyphens), and refuses it the second time', async () => {
      const code = recoveryCodes[0];
      const first = await verify(await challenge(trader), code.toLowerCase().replace(/-/g, ' '));
      expect(first.status).toBe(200);
      expect(first.body).toHaveProperty('accessToken');
      const status = await t.http.get('/api/v1/me/mfa').set(bearer(first.body.accessToken));
      expect(status.body.recoveryCodesRemaining).toBe(9);

      const second = await verify(await challenge(trader), code);
      expect(second.status).toBe(401);
      expect(second.body.code).toBe('INVALID_MFA_CODE');

      const audit = await t.http
        .get('/api/v1/audit-events')
        .query({ action: 'auth.login', outcome: 'success', actorId: trader.id })
        .set(bearer(root));
      expect(audit.body.items.map((e: { details: { mfa?: string } }) => e.details.mfa)).toEqual(
        expect.arrayContaining(['totp', 'recovery_code']),
      );
    });

    it('burns an expired or unknown mfaToken', async () => {
      const mfaToken = await challenge(trader);
      await t.app
        .get(DataSource)
        .query(
          `UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND used_at IS NULL`,
          [trader.id],
        );
      const expired = await verify(mfaToken, recoveryCodes[8]);
      expect(expired.status).toBe(401);
      expect(expired.body.code).toBe('INVALID_TOKEN');
      const unknown = await verify('A'.repeat(43), recoveryCodes[8]);
      expect(unknown.status).toBe(401);
      expect(unknown.body.code).toBe('INVALID_TOKEN');
      const malformed = await verify('not a token', recoveryCodes[8]);
      expect(malformed.status).toBe(401);
      // The recovery code was not spent by those attempts.
      expect((await verify(await challenge(trader), recoveryCodes[8])).status).toBe(200);
    });

    it('needs the password and a code to turn MFA off', async () => {
      const session = (await verify(await challenge(trader), recoveryCodes[1])).body as Tokens;
      const wrongPassword = await t.http
        .delete('/api/v1/me/mfa/totp')
        .set(bearer(session))
        .send({ password: 'not-my-password', code: recoveryCodes[2] });
      expect(wrongPassword.status).toBe(400);
      expect(wrongPassword.body.errors).toEqual([expect.objectContaining({ field: 'password' })]);
      const wrongCode = await t.http
        .delete('/api/v1/me/mfa/totp')
        .set(bearer(session))
        .send({ password: trader.password, code: recoveryCodes[0] }); // already used
      expect(wrongCode.status).toBe(400);
      expect(wrongCode.body.errors).toEqual([expect.objectContaining({ field: 'code' })]);
      const missing = await t.http
        .delete('/api/v1/me/mfa/totp')
        .set(bearer(session))
        .send({ password: trader.password });
      expect(missing.status).toBe(400);
      expect((await t.http.get('/api/v1/me/mfa').set(bearer(session))).body.enabled).toBe(true);

      const off = await t.http
        .delete('/api/v1/me/mfa/totp')
        .set(bearer(session))
        .send({ password: trader.password, code: recoveryCodes[2] });
      expect(off.status).toBe(204);
      expect((await t.http.get('/api/v1/me').set(bearer(session))).body.mfaEnabled).toBe(false);
      const rows = await t.app
        .get(DataSource)
        .query(
          'SELECT 1 FROM mfa_recovery_codes WHERE user_id = $1 UNION ALL SELECT 1 FROM mfa_totp WHERE user_id = $1',
          [trader.id],
        );
      expect(rows).toHaveLength(0);

      const plain = await attemptLogin(trader.email, trader.password);
      expect(plain.status).toBe(200);
      expect(plain.body).toHaveProperty('accessToken');
      const again = await t.http
        .delete('/api/v1/me/mfa/totp')
        .set(bearer(session))
        .send({ password: trader.password, code: '123456' });
      expect(again.status).toBe(404);
    });
  });

  it('burns a challenge after five wrong codes', async () => {
    const user = await createUser(t, root, ['analyst']);
    const { recoveryCodes } = await enrolAndActivate(user.tokens);
    const mfaToken = await challenge(user);
    for (let i = 1; i <= 5; i++) {
      const res = await verify(mfaToken, i % 2 ? '000000' : 'ZZZZ-ZZZZ-ZZZZ');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'INVALID_MFA_CODE', attemptsRemaining: 5 - i });
    }
    const burnt = await verify(mfaToken, recoveryCodes[0]);
    expect(burnt.status).toBe(401);
    expect(burnt.body.code).toBe('INVALID_TOKEN');
    // Five failures are below this spec's lockout threshold (7): a new sign-in works, and resets the count.
    const ok = await verify(await challenge(user), recoveryCodes[0]);
    expect(ok.status).toBe(200);
  });

  it('counts wrong codes towards the account lockout, with wrong passwords, and records them', async () => {
    const user = await createUser(t, root, ['analyst']);
    const { recoveryCodes } = await enrolAndActivate(user.tokens);
    for (let i = 0; i < 4; i++) expect((await attemptLogin(user.email, `wrong-password-${i}`)).status).toBe(401);
    // The right password does not clear the count: only a completed second step does.
    const mfaToken = await challenge(user);
    expect((await verify(mfaToken, '111111')).body.attemptsRemaining).toBe(4); // 5 failures
    expect((await verify(mfaToken, '222222')).body.attemptsRemaining).toBe(3); // 6
    const last = await verify(mfaToken, '333333'); // 7: locked, and the challenge with it
    expect(last.status).toBe(401);
    expect(last.body).toMatchObject({ code: 'INVALID_MFA_CODE', attemptsRemaining: 0 });

    expect((await verify(mfaToken, recoveryCodes[0])).body.code).toBe('INVALID_TOKEN');
    const locked = await attemptLogin(user.email, user.password);
    expect(locked.status).toBe(401);
    expect(locked.body.code).toBe('INVALID_CREDENTIALS');
    const view = (await t.http.get(`/api/v1/users/${user.id}`).set(bearer(root))).body;
    expect(view.status).toBe('active');
    expect(Date.parse(view.lockedUntil)).toBeGreaterThan(Date.now());

    const activity = await t.http.get(`/api/v1/users/${user.id}/activity`).set(bearer(root));
    const failed = activity.body.items.filter(
      (a: { type: string; details: { reason?: string } }) =>
        a.type === 'login_failed' && a.details.reason === 'mfa_failed',
    );
    expect(failed).toHaveLength(3);
    expect(activity.body.items.map((a: { type: string }) => a.type)).toContain('account_locked');
    const audit = await t.http
      .get('/api/v1/audit-events')
      .query({ action: 'auth.account_locked', targetId: user.id })
      .set(bearer(root));
    expect(audit.body.items).toHaveLength(1);
  });

  it('lets a user of a role in MFA_REQUIRED_ROLES do nothing but enrol until MFA is active', async () => {
    const auditor = await createUser(t, root, ['auditor']);
    const blocked = await t.http.get('/api/v1/audit-events').set(bearer(auditor.tokens));
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('MFA_ENROLMENT_REQUIRED');
    expect((await t.http.get('/api/v1/me/sessions').set(bearer(auditor.tokens))).body.code).toBe(
      'MFA_ENROLMENT_REQUIRED',
    );
    expect((await t.http.patch('/api/v1/me').set(bearer(auditor.tokens)).send({ firstName: 'A' })).status).toBe(403);

    const me = await t.http.get('/api/v1/me').set(bearer(auditor.tokens));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ mfaEnabled: false, mfaEnrolmentRequired: true });
    expect((await t.http.get('/api/v1/me/mfa').set(bearer(auditor.tokens))).body).toMatchObject({
      enabled: false,
      required: true,
    });
    // Signing out is allowed too.
    const spare = await login(t, auditor.email, auditor.password);
    expect((await t.http.post('/api/v1/auth/logout').set(bearer(spare))).status).toBe(204);

    const { secret, step } = await enrolAndActivate(auditor.tokens);
    // The same session is unblocked at once.
    expect((await t.http.get('/api/v1/audit-events').set(bearer(auditor.tokens))).status).toBe(200);
    // And signing in now takes a code.
    const mfaToken = await challenge(auditor);
    const res = await verify(mfaToken, totp(secret, step + 1));
    expect(res.status).toBe(200);
    expect((await t.http.get('/api/v1/audit-events').set(bearer(res.body.accessToken))).status).toBe(200);
  });

  it('does not let a user without a role in MFA_REQUIRED_ROLES be blocked', async () => {
    const viewer = await createUser(t, root, ['viewer']);
    const res = await t.http.get('/api/v1/me/sessions').set(bearer(viewer.tokens));
    expect(res.status).toBe(200);
    expect((await t.http.get('/api/v1/me').set(bearer(viewer.tokens))).body.mfaEnrolmentRequired).toBe(false);
  });
});
