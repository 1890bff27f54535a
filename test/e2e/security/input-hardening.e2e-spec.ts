import { availableParallelism, loadavg } from 'node:os';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { SECURITY_EVENT_RECORDED } from '../../../src/security/threats/threat.events';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

const LOGIN_FLOOR_MS = 400;
const from = (ip: string) => ({ 'X-Forwarded-For': ip });
const forge = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Hostile input gets 4xx, never 500, and the smaller hardening items of issue 8. */
describe('input hardening', () => {
  let t: TestApp;
  let root: Tokens;

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      REGISTRATION_MODE: 'open',
      LOGIN_FAILURE_MIN_MS: String(LOGIN_FLOOR_MS),
      TRUSTED_PROXIES: '127.0.0.1,::1,203.0.113.0/24',
      THREAT_STUFFING_ACCOUNTS: '3',
      LOCKOUT_THRESHOLD: '1000',
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t?.close());

  const register = (email: string, password = 'Quiet-Orchard-7-Lantern') =>
    t.http.post('/api/v1/auth/register').send({ email, password, firstName: 'Ann', lastName: 'Smith' });

  it('refuses NUL bytes and unpaired surrogates in bodies, queries and paths with 400', async () => {
    for (const email of ['a\u0000b@example.com', 'x\ud800@example.com']) {
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ email, password: 'whatever-password' }));
      expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const group = await t.http
      .post('/api/v1/groups')
      .set(bearer(root))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ name: 'ok', description: 'lone \udc00 surrogate' }));
    expect(group.status).toBe(400);
    expect((await t.http.get('/api/v1/users?q=a%00b').set(bearer(root))).status).toBe(400);
    expect((await t.http.get('/api/v1/users/a%00b').set(bearer(root))).status).toBe(400);
    expect((await t.http.get('/api/v1/users/%ED%A0%80').set(bearer(root))).status).toBe(400);
  });

  it('refuses JSON nested deeper than the limit with 400', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await t.http
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(`{"email":"a@example.com","password":${deep}}`);
    expect([res.status, res.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.errors[0].message).toMatch(/nested deeper/);
  });

  it('answers forged or corrupt cursors with 400 INVALID_CURSOR on every kind of list', async () => {
    const portfolio = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(root))
      .send({ name: 'cursors', baseCurrency: 'USD' });
    const lists = [
      '/api/v1/users',
      '/api/v1/groups',
      '/api/v1/portfolios',
      `/api/v1/portfolios/${portfolio.body.id as string}/trades`,
      '/api/v1/audit-events',
      '/api/v1/security/ip-rules',
      '/api/v1/security/events',
      '/api/v1/api-keys',
    ];
    const cursors = [
      'not base64 at all!',
      forge({ k: 'x', id: 'y' }),
      forge({ k: '2026-01-01T00:00:00.000Z', id: 'not-a-uuid' }),
      forge({ k: 12, id: '00000000-0000-4000-8000-000000000000' }),
      forge(['k', 'id']),
      forge({ k: 'a\u0000', id: '00000000-0000-4000-8000-000000000000' }),
    ];
    for (const path of lists) {
      for (const cursor of cursors) {
        const res = await t.http.get(path).query({ cursor }).set(bearer(root));
        expect({ path, cursor, status: res.status, code: res.body.code }).toEqual({
          path,
          cursor,
          status: 400,
          code: 'INVALID_CURSOR',
        });
      }
    }
    // Sort values of the wrong kind: a name where a time is expected, a seq beyond bigint.
    const uuid = '00000000-0000-4000-8000-000000000000';
    for (const [path, k] of [
      ['/api/v1/users', 'zzz|1'],
      [`/api/v1/portfolios/${portfolio.body.id as string}/trades`, '2026-01-01T00:00:00.000Z'],
      ['/api/v1/audit-events', '99999999999999999999'],
    ]) {
      const res = await t.http
        .get(path)
        .query({ cursor: forge({ k, id: uuid }) })
        .set(bearer(root));
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 400, code: 'INVALID_CURSOR' });
    }
  });

  it('creates one account when the same email is registered concurrently; the others get 409', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => register('race@example.com')));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    expect(answers.filter((r) => r.status === 409).every((r) => r.body.code === 'EMAIL_TAKEN')).toBe(true);
  });

  it('sends Cache-Control: no-store with tokens and personal data', async () => {
    const res = await t.http.post('/api/v1/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await t.http.get('/api/v1/me').set(bearer(root))).headers['cache-control']).toBe('no-store');
    expect((await t.http.get('/api/v1/nope').set(bearer(root))).headers['cache-control']).toBe('no-store');
  });

  it('matches the Authorization scheme case-insensitively', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await t.http.get('/api/v1/me').set('Authorization', `${scheme} ${root.accessToken}`);
      expect({ scheme, status: res.status }).toEqual({ scheme, status: 200 });
    }
  });

  it('normalises emails (NFKC, lower case) and refuses look-alikes of an existing account', async () => {
    const created = await register('ＪＡＮＥ.Doe@Example.COM');
    expect(created.status).toBe(201);
    expect(created.body.email).toBe('jane.doe@example.com');
    expect((await register('jane.doe@example.com')).body.code).toBe('EMAIL_TAKEN');
    // Cyrillic а, digit zero, "rn" for "m", an accent, a zero-width space.
    for (const lookalike of [
      'j\u0430ne.doe@example.com',
      'jane.d0e@example.com',
      'jane.doe@exarnple.com',
      'jané.doe@example.com',
      'ja\u200bne.doe@example.com',
    ]) {
      const res = await register(lookalike);
      expect({ lookalike, status: res.status, code: res.body.code }).toEqual({
        lookalike,
        status: 409,
        code: 'EMAIL_CONFUSABLE',
      });
    }
    expect((await register('jane.dunn@example.com')).status).toBe(201);
  });

  it('refuses derivatives of common passwords (zxcvbn score below PASSWORD_MIN_SCORE)', async () => {
    for (const password of ['password123456', 'P4ssw0rd!2024', 'qwertyqwertyqwerty']) {
      const res = await register(`weak-${password.length}@example.com`, password);
      expect({ password, status: res.status, code: res.body.code }).toEqual({
        password,
        status: 400,
        code: 'WEAK_PASSWORD',
      });
    }
  });

  it('takes the same time to refuse a known and an unknown email (100 concurrent pairs: neither side slower in most pairs)', async () => {
    const time = async (email: string): Promise<number> => {
      const started = performance.now();
      const res = await t.http.post('/api/v1/auth/login').send({ email, password: 'not-the-password-1' });
      expect(res.status).toBe(401);
      return performance.now() - started;
    };
    const victim = await createUser(t, root, ['viewer']);
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 100; i++) {
      // Whichever request is sent first tends to finish first: alternate the order, so the test
      // measures the server and not the order of sending.
      const [k, u] =
        i % 2 === 0
          ? await Promise.all([time(victim.email), time(`nobody-${i}@example.com`)])
          : await Promise.all([time(`nobody-${i}@example.com`), time(victim.email)]).then(([a, b]) => [b, a]);
      known.push(k);
      unknown.push(u);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `login refusal medians: known email ${median(known).toFixed(2)} ms, unknown email ${median(unknown).toFixed(2)} ms, known slower in ${known.filter((k, i) => k > unknown[i]).length} of 100 pairs (floor ${LOGIN_FLOOR_MS} ms)`,
    );
    // Both wait for the floor. A leak shows as one side being slower in most pairs, whatever the
    // machine's load: the pairs ran concurrently, so load slows both alike. A sign test over the
    // 100 pairs: with no leak, "known was slower" is a fair coin (50 ± 5 standard deviation), and
    // 20 to 80 leaves six standard deviations each side; a constant leak of even one millisecond
    // above the noise puts nearly every pair on one side. The medians are compared too, where the
    // machine is not overloaded (timers firing late by the event loop's backlog look like a leak).
    const knownSlower = known.filter((k, i) => k > unknown[i]).length;
    expect(knownSlower).toBeGreaterThanOrEqual(20);
    expect(knownSlower).toBeLessThanOrEqual(80);
    expect(median(unknown)).toBeGreaterThanOrEqual(LOGIN_FLOOR_MS);
    if (loadavg()[0] < availableParallelism()) {
      expect(Math.abs(median(known) - median(unknown))).toBeLessThan(3);
    }
    expect(median(known)).toBeGreaterThanOrEqual(LOGIN_FLOOR_MS);
  }, 120_000);

  it('refuses an allow-list that would turn the administrator away when their own allow rule expires', async () => {
    const mine = await t.http
      .post('/api/v1/security/ip-rules')
      .set(bearer(root))
      .send({ action: 'allow', cidr: '127.0.0.1', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(mine.status).toBe(201);
    const lasting = await t.http
      .post('/api/v1/security/ip-rules')
      .set(bearer(root))
      .send({ action: 'allow', cidr: '10.0.0.0/8' });
    expect([lasting.status, lasting.body.code]).toEqual([409, 'CONFLICT']);
    expect(lasting.body.detail).toMatch(/expires/);
    expect((await t.http.delete(`/api/v1/security/ip-rules/${mine.body.id as string}`).set(bearer(root))).status).toBe(
      204,
    );
  });

  it('never auto-blocks a trusted proxy or an allowed address', async () => {
    const bus = t.app.get(EventEmitter2);
    const stuff = async (ip: string): Promise<void> => {
      const seen = bus.waitFor(
        SECURITY_EVENT_RECORDED,
        (...args: unknown[]) =>
          (args[0] as { type: string; ip: string }).type === 'credential_stuffing' &&
          (args[0] as { ip: string }).ip === ip,
      );
      for (let i = 0; i < 3; i++) {
        await t.http
          .post('/api/v1/auth/login')
          .set(from(ip))
          .send({ email: `victim-${i}@example.com`, password: 'not-the-password-1' });
      }
      await seen;
    };
    const threatRules = async () =>
      (await t.http.get('/api/v1/security/ip-rules').query({ source: 'threat' }).set(bearer(root))).body
        .items as unknown[];
    // Blocking follows the event in the same handler: give it a bounded moment, then check nothing came.
    const expectNoBlock = async (ip: string): Promise<void> => {
      for (let i = 0; i < 10; i++) {
        expect(await threatRules()).toEqual([]);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect((await t.http.get('/api/v1/status').set(from(ip))).status).toBe(200);
    };
    // The address of a trusted proxy (it is the client address when it forwards for nobody).
    await stuff('203.0.113.9');
    await expectNoBlock('203.0.113.9');
    // An address an allow rule covers (allow our own first, or the rule is a self-lockout).
    for (const cidr of ['127.0.0.1', '::1', '198.51.100.0/24']) {
      const rule = await t.http.post('/api/v1/security/ip-rules').set(bearer(root)).send({ action: 'allow', cidr });
      expect(rule.status).toBe(201);
    }
    await stuff('198.51.100.7');
    await expectNoBlock('198.51.100.7');
  });
});
