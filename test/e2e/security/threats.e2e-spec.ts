import { setTimeout as delay } from 'node:timers/promises';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { SECURITY_EVENT_RECORDED } from '../../../src/security/threats/threat.events';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

// Long enough that the checks after the block run inside it on a loaded 2-core CI machine.
const BLOCK_SECONDS = 6;

/** Requests "from" another client: 127.0.0.1 is a trusted proxy here, so X-Forwarded-For is believed. */
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

describe('IP rules and threat detection', () => {
  let t: TestApp;
  let root: Tokens;

  beforeAll(async () => {
    t = await startTestApp({
      ...BOOTSTRAP_ENV,
      TRUSTED_PROXIES: '127.0.0.1,::1',
      THREAT_BLOCK_SECONDS: String(BLOCK_SECONDS),
      THREAT_STUFFING_ACCOUNTS: '10',
      THREAT_BRUTE_FORCE_FAILURES: '8',
      THREAT_FORBIDDEN_BURST: '5',
      LOCKOUT_THRESHOLD: '50',
      IP_DENY: '192.0.2.0/24',
    });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => t?.close());

  /** Resolves when threat detection records an event of this type (detection runs after the answer). */
  const recorded = async (type: string): Promise<Record<string, unknown>> => {
    const [event] = (await t.app
      .get(EventEmitter2)
      .waitFor(SECURITY_EVENT_RECORDED, (...args: unknown[]) => (args[0] as { type: string }).type === type)) as Record<
      string,
      unknown
    >[];
    return event;
  };

  const events = async (type: string) =>
    (await t.http.get('/api/v1/security/events').query({ type }).set(bearer(root))).body.items as {
      type: string;
      ip: string;
      userId: string | null;
      details: Record<string, unknown>;
    }[];

  it('refuses addresses denied in configuration with 403 before authentication, IPv4 and IPv6', async () => {
    const res = await t.http.get('/api/v1/status').set(from('192.0.2.77'));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('IP_BLOCKED');
    expect((await t.http.get('/api/v1/status').set(from('198.51.100.1'))).status).toBe(200);
    const rules = await t.http.get('/api/v1/security/ip-rules').query({ source: 'config' }).set(bearer(root));
    expect(rules.body.items).toEqual([
      expect.objectContaining({ action: 'deny', cidr: '192.0.2.0/24', source: 'config' }),
    ]);

    const v6 = await t.http
      .post('/api/v1/security/ip-rules')
      .set(bearer(root))
      .send({ action: 'deny', cidr: '2001:db8:bad::/48', description: 'test' });
    expect(v6.status).toBe(201);
    expect((await t.http.get('/api/v1/status').set(from('2001:db8:bad::1'))).status).toBe(403);
    expect((await t.http.get('/api/v1/status').set(from('2001:db8:900d::1'))).status).toBe(200);
    await t.http.delete(`/api/v1/security/ip-rules/${v6.body.id}`).set(bearer(root)).expect(204);
    expect((await t.http.get('/api/v1/status').set(from('2001:db8:bad::1'))).status).toBe(200);
    expect(
      (await t.http.post('/api/v1/security/ip-rules').set(bearer(root)).send({ action: 'deny', cidr: 'not-an-ip' }))
        .status,
    ).toBe(400);
  });

  it('lets deny win over allow, and an allow-list turn others away', async () => {
    // The first allow rule must cover the administrator, or it would lock them out: refused.
    const post = (body: Record<string, string>) =>
      t.http.post('/api/v1/security/ip-rules').set(bearer(root)).send(body);
    expect((await post({ action: 'allow', cidr: '203.0.113.0/24' })).status).toBe(409);
    expect((await post({ action: 'deny', cidr: '127.0.0.0/8' })).status).toBe(409);
    const allowLocal = await post({ action: 'allow', cidr: '127.0.0.0/8' });
    const allowLocal6 = await post({ action: 'allow', cidr: '::1' });
    expect([allowLocal.status, allowLocal6.status]).toEqual([201, 201]); // the caller is covered by the first
    const allow = await post({ action: 'allow', cidr: '203.0.113.0/24' });
    expect(allow.status).toBe(201);
    const deny = await t.http
      .post('/api/v1/security/ip-rules')
      .set(bearer(root))
      .send({ action: 'deny', cidr: '203.0.113.66' });
    expect((await t.http.get('/api/v1/status').set(from('203.0.113.5'))).status).toBe(200);
    expect((await t.http.get('/api/v1/status').set(from('203.0.113.66'))).status).toBe(403);
    expect((await t.http.get('/api/v1/status').set(from('198.51.100.1'))).status).toBe(403);
    for (const r of [allow, deny, allowLocal6, allowLocal])
      await t.http.delete(`/api/v1/security/ip-rules/${r.body.id}`).set(bearer(root)).expect(204);
    expect((await t.http.get('/api/v1/status').set(from('198.51.100.1'))).status).toBe(200);
  });

  it('turns thirty failed logins over ten accounts from one IP into a credential-stuffing event and a block that lifts', async () => {
    const attacker = '198.51.100.23';
    const stuffingSeen = recorded('credential_stuffing');
    const blockSeen = recorded('ip_blocked');
    const victims = Array.from({ length: 10 }, (_, i) => `victim${i}@example.com`);
    for (let round = 0; round < 3; round++) {
      for (const email of victims) {
        const res = await t.http
          .post('/api/v1/auth/login')
          .set(from(attacker))
          .send({ email, password: `guess-${round}-password` });
        expect([401, 403]).toContain(res.status);
      }
    }
    await stuffingSeen;
    await blockSeen;
    const stuffing = await events('credential_stuffing');
    expect(stuffing).toEqual([
      expect.objectContaining({ ip: attacker, details: expect.objectContaining({ accounts: 10 }) }),
    ]);
    const blocked = await events('ip_blocked');
    expect(blocked[0]).toMatchObject({ ip: attacker });

    const refused = await t.http.get('/api/v1/status').set(from(attacker));
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('IP_BLOCKED');
    expect((await t.http.get('/api/v1/status').set(from('198.51.100.24'))).status).toBe(200);

    const rules = await t.http.get('/api/v1/security/ip-rules').query({ source: 'threat' }).set(bearer(root));
    expect(rules.body.items[0]).toMatchObject({
      action: 'deny',
      cidr: `${attacker}/32`,
      expiresAt: expect.any(String),
    });
    const audit = await t.http.get('/api/v1/audit-events').query({ action: 'ip_rule.created' }).set(bearer(root));
    expect(audit.body.items.some((e: { details: { source: string } }) => e.details.source === 'threat')).toBe(true);

    await delay(BLOCK_SECONDS * 1000 + 300); // the block is a duration: nothing to await but time
    expect((await t.http.get('/api/v1/status').set(from(attacker))).status).toBe(200);
  });

  it('records brute force against one account', async () => {
    const user = await createUser(t, root, ['viewer']);
    const seen = recorded('brute_force');
    for (let i = 0; i < 8; i++)
      await t.http
        .post('/api/v1/auth/login')
        .set(from(`198.51.100.${100 + i}`))
        .send({ email: user.email, password: 'wrong-password-x' });
    await seen;
    const brute = await events('brute_force');
    expect(brute).toEqual([
      expect.objectContaining({
        userId: user.id,
        details: expect.objectContaining({ account: user.email, failures: 8 }),
      }),
    ]);
  });

  it('records refresh-token reuse, bursts of 403s and a sign-in from a new device', async () => {
    const user = await createUser(t, root, ['viewer']);
    const rotated = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: user.tokens.refreshToken })
      .expect(200);
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken }).expect(200);
    // The first token is now two generations old: outside any grace window, a reuse.
    const reuse = recorded('refresh_token_reuse');
    await t.http.post('/api/v1/auth/refresh').send({ refreshToken: user.tokens.refreshToken }).expect(401);
    expect(await reuse).toMatchObject({ userId: user.id });

    const fresh = await login(t, user.email, user.password);
    const burst = recorded('forbidden_burst');
    for (let i = 0; i < 5; i++) await t.http.get('/api/v1/users').set(bearer(fresh)).expect(403);
    expect(await burst).toMatchObject({ userId: user.id });

    const device = recorded('new_device_login');
    await t.http
      .post('/api/v1/auth/login')
      .set(from('203.0.113.200'))
      .set('User-Agent', 'NewPhone/1.0')
      .send({ email: user.email, password: user.password })
      .expect(200);
    expect(await device).toMatchObject({ userId: user.id, ip: '203.0.113.200' });
    const listed = await events('new_device_login');
    expect(listed.some((e) => e.userId === user.id && e.ip === '203.0.113.200')).toBe(true);
  });

  it('is readable only with security-events:read', async () => {
    const viewer = await createUser(t, root, ['viewer']);
    expect((await t.http.get('/api/v1/security/events').set(bearer(viewer.tokens))).status).toBe(403);
    const auditor = await createUser(t, root, ['auditor']);
    expect((await t.http.get('/api/v1/security/events').set(bearer(auditor.tokens))).status).toBe(200);
    expect(
      (
        await t.http
          .post('/api/v1/security/ip-rules')
          .set(bearer(auditor.tokens))
          .send({ action: 'deny', cidr: '1.2.3.4' })
      ).status,
    ).toBe(403);
  });
});
