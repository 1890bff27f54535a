import { randomUUID } from 'node:crypto';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Socket } from 'socket.io-client';
import { MonitoringEvents } from '../../../src/monitoring/monitoring.events';
import { ReportingEvents } from '../../../src/reporting/reporting.events';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { connectLive, disconnected, emitAck, expectSchema, nextEvent, refusal } from '../support/live';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;
type Ack = { ok: boolean; channel?: string; error?: { code: string; message: string; missingPermissions?: string[] } };

const trade = (n: number) => ({
  symbol: 'ACME',
  side: 'buy',
  quantity: '10',
  price: `${100 + n}.5`,
  executedAt: new Date(Date.UTC(2026, 2, 2, 9, n)).toISOString(),
});

describe('live gateway (Socket.IO /live)', () => {
  let t: TestApp;
  let root: Tokens;
  let traderA: User;
  let traderB: User;
  let viewer: User;
  let auditor: User;
  let portfolioA: string;
  let portfolioB: string;
  const sockets: Socket[] = [];
  const open = async (auth: Record<string, unknown>): Promise<Socket> => {
    const s = await connectLive(t, auth);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, THREAT_BRUTE_FORCE_FAILURES: '4', LIVE_MESSAGES_PER_SECOND: '5' });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    traderA = await createUser(t, root, ['trader']);
    traderB = await createUser(t, root, ['trader']);
    viewer = await createUser(t, root, ['viewer']);
    auditor = await createUser(t, root, ['auditor']);
    const create = async (who: Tokens, name: string): Promise<string> => {
      const res = await t.http.post('/api/v1/portfolios').set(bearer(who)).send({ name, baseCurrency: 'USD' });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    portfolioA = await create(traderA.tokens, 'Alpha');
    portfolioB = await create(traderB.tokens, 'Beta');
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
  });

  describe('handshake', () => {
    it('refuses a connection without credentials, with the code in connect_error data', async () => {
      const err = await refusal(t, undefined);
      expect(err.data).toEqual({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/auth: \{token/) });
    });

    it('refuses a bad, a forged and a malformed token, and an unknown API key', async () => {
      expect((await refusal(t, { token: 'not-a-jwt' })).data?.code).toBe('INVALID_TOKEN');
      const forged = `${traderA.tokens.accessToken.slice(0, -4)}AAAA`;
      expect((await refusal(t, { token: forged })).data?.code).toBe('INVALID_TOKEN');
      expect((await refusal(t, { token: 42 })).data?.code).toBe('UNAUTHENTICATED');
      expect((await refusal(t, { apiKey: `bst_${'A'.repeat(43)}` })).data?.code).toBe('UNAUTHENTICATED');
      expect((await refusal(t, { token: traderA.tokens.accessToken, apiKey: 'x' })).data?.code).toBe('BAD_REQUEST');
    });

    it('refuses a browser origin that is not the server’s own or in CORS_ORIGINS', async () => {
      const err = await refusal(
        t,
        { token: viewer.tokens.accessToken },
        { extraHeaders: { Origin: 'https://evil.example' } },
      );
      expect(err.data?.code).toBe('FORBIDDEN');
      const same = await connectLive(t, { token: viewer.tokens.accessToken }, { extraHeaders: { Origin: t.baseUrl } });
      same.close();
    });
  });

  describe('subscriptions', () => {
    it('lets a viewer subscribe to prices but not to security-events', async () => {
      const s = await open({ token: viewer.tokens.accessToken });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'prices' })).toEqual({ ok: true, channel: 'prices' });
      const refused = await emitAck<Ack>(s, 'subscribe', { channel: 'security-events' });
      expect(refused).toEqual({
        ok: false,
        error: {
          code: 'FORBIDDEN',
          message: expect.any(String),
          missingPermissions: ['security-events:read'],
        },
      });

      const price = nextEvent(s, 'price');
      const posted = await t.http
        .post('/api/v1/prices')
        .set(bearer(root))
        .send({ symbol: 'ZZZ', price: '12.5', asOf: new Date().toISOString() });
      expect(posted.status).toBe(201);
      const got = await price;
      expectSchema('price', got);
      expect(got).toMatchObject({
        channel: 'prices',
        latest: [expect.objectContaining({ symbol: 'ZZZ', price: '12.5' })],
      });
    });

    it('delivers a trade POSTed over REST to the owner’s portfolio channel within 500 ms, then the new totals', async () => {
      const s = await open({ token: traderA.tokens.accessToken });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: `portfolio:${portfolioA}` })).toEqual({
        ok: true,
        channel: `portfolio:${portfolioA}`,
      });
      // When the client got it, against the POST's answer (after commit; it may even come first).
      const received = nextEvent<Record<string, unknown>>(s, 'trade').then((m) => ({ m, at: Date.now() }));
      const revalued = nextEvent<Record<string, unknown>>(s, 'portfolio_revalued');
      const res = await t.http
        .post(`/api/v1/portfolios/${portfolioA}/trades`)
        .set(bearer(traderA.tokens))
        .send(trade(1));
      expect(res.status).toBe(201);
      const answered = Date.now();
      const { m: message, at } = await received;
      expect(at - answered).toBeLessThan(500);
      expectSchema('trade', message);
      expect(message).toMatchObject({
        channel: `portfolio:${portfolioA}`,
        portfolioId: portfolioA,
        count: 1,
        recordedBy: traderA.id,
        trades: [expect.objectContaining({ id: res.body.id, symbol: 'ACME', quantity: '10', price: '101.5' })],
      });
      expect(message).not.toHaveProperty('ownerId');
      const totals = await revalued;
      expectSchema('portfolio_revalued', totals);
      expect(totals).toMatchObject({ portfolioId: portfolioA, reason: 'trades', totals: { costBasis: '1015' } });
    });

    it('refuses another trader’s portfolio exactly as one that does not exist', async () => {
      const s = await open({ token: traderA.tokens.accessToken });
      const other = await emitAck<Ack>(s, 'subscribe', { channel: `portfolio:${portfolioB}` });
      const missing = await emitAck<Ack>(s, 'subscribe', { channel: `portfolio:${randomUUID()}` });
      expect(other).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: expect.any(String) } });
      expect(missing).toEqual(other);
      // And nothing of B's trades reaches A.
      const leaked = nextEvent(s, 'trade', () => true, 400).then(
        () => true,
        () => false,
      );
      await t.http
        .post(`/api/v1/portfolios/${portfolioB}/trades`)
        .set(bearer(traderB.tokens))
        .send(trade(2))
        .expect(201);
      expect(await leaked).toBe(false);
    });

    it('answers malformed, unknown, oversized and too frequent messages with error acks', async () => {
      const s = await open({ token: viewer.tokens.accessToken });
      expect(await emitAck<Ack>(s, 'subscribe', 'prices')).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'nope' })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'portfolio:123' })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(await emitAck<Ack>(s, 'hello', {})).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'x'.repeat(10_000) })).toMatchObject({
        ok: false,
        error: { code: 'PAYLOAD_TOO_LARGE' },
      });
      // LIVE_MESSAGES_PER_SECOND=5 (bursts of 10): a flood gets RATE_LIMITED, and the gateway lives on.
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => emitAck<Ack>(s, 'unsubscribe', { channel: 'prices' })),
      );
      expect(answers.filter((a) => a.error?.code === 'RATE_LIMITED').length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 2_100)); // the bucket refills: a real wait for a real clock
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'prices' })).toEqual({ ok: true, channel: 'prices' });
      expect(s.connected).toBe(true);
    });
  });

  describe('honest sockets', () => {
    it('disconnects within 1 s when the session is revoked (logout), saying why', async () => {
      const user = await createUser(t, root, ['trader']);
      const s = await open({ token: user.tokens.accessToken });
      const closing = nextEvent<{ reason: string }>(s, 'closing');
      const since = Date.now();
      await t.http.post('/api/v1/auth/logout').set(bearer(user.tokens)).expect(204);
      const gone = await disconnected(s, since);
      expect(gone.ms).toBeLessThan(1_000);
      expect(gone.reason).toBe('io server disconnect');
      const why = await closing;
      expectSchema('closing', why);
      expect(why).toMatchObject({ reason: 'session_revoked', reconnect: false });
      // The same token cannot reconnect.
      expect((await refusal(t, { token: user.tokens.accessToken })).data?.code).toBe('INVALID_TOKEN');
    });

    it('disconnects a key-authenticated socket within 1 s when the key’s owner is suspended', async () => {
      const owner = await createUser(t, root, ['trader']);
      const key = await t.http
        .post('/api/v1/api-keys')
        .set(bearer(owner.tokens))
        .send({ name: 'feed', scopes: ['portfolios:read', 'trades:read'], password: owner.password });
      expect(key.status).toBe(201);
      const s = await open({ apiKey: key.body.secret as string });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'prices' })).toMatchObject({ ok: true });
      const closing = nextEvent<{ reason: string }>(s, 'closing');
      const since = Date.now();
      const suspended = await t.http
        .post(`/api/v1/users/${owner.id}/status`)
        .set(bearer(root))
        .send({ status: 'suspended', reason: 'live gateway test' });
      expect(suspended.status).toBe(200);
      const gone = await disconnected(s, since);
      expect(gone.ms).toBeLessThan(1_000);
      // Suspension revokes the owner's keys for good, so the key itself has ended.
      expect(await closing).toMatchObject({ reason: 'api_key_revoked' });
      expect((await refusal(t, { apiKey: key.body.secret as string })).data?.code).toBe('UNAUTHENTICATED');
    });

    it('ends a subscription with `revoked` when the permission behind it is removed', async () => {
      const user = await createUser(t, root, ['auditor']);
      const s = await open({ token: user.tokens.accessToken });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'security-events' })).toMatchObject({ ok: true });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'prices' })).toMatchObject({ ok: true });
      const revoked = nextEvent<Record<string, unknown>>(s, 'revoked');
      await t.http
        .put(`/api/v1/users/${user.id}/roles`)
        .set(bearer(root))
        .send({ roles: ['viewer'] })
        .expect(200);
      const since = Date.now(); // the change is committed once the PUT has answered
      const message = await revoked.then((m) => ({ m, at: Date.now() }));
      expect(message.at - since).toBeLessThan(1_000);
      expectSchema('revoked', message.m);
      expect(message.m).toMatchObject({ channel: 'security-events', code: 'FORBIDDEN' });
      expect(s.connected).toBe(true);
    });

    it('delivers a burst of failed logins to a security-events subscriber', async () => {
      const s = await open({ token: auditor.tokens.accessToken });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'security-events' })).toMatchObject({ ok: true });
      const victim = await createUser(t, root, ['viewer']);
      const event = nextEvent<Record<string, unknown>>(s, 'security_event', (e) => e.type === 'brute_force', 10_000);
      for (let i = 0; i < 4; i++) {
        await t.http.post('/api/v1/auth/login').send({ email: victim.email, password: 'wrong-password-x' });
      }
      const got = await event;
      expectSchema('security_event', got);
      expect(got).toMatchObject({ channel: 'security-events', type: 'brute_force', userId: victim.id });
    });
  });

  describe('monitoring and reporting channels', () => {
    it('maps monitoring.metrics.sampled to metrics (metrics:read) and monitoring.alert.changed to alerts', async () => {
      const manager = await createUser(t, root, ['manager']);
      const s = await open({ token: manager.tokens.accessToken });
      const v = await open({ token: viewer.tokens.accessToken });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'metrics' })).toMatchObject({ ok: true });
      expect(await emitAck<Ack>(s, 'subscribe', { channel: 'alerts' })).toMatchObject({ ok: true });
      expect(await emitAck<Ack>(v, 'subscribe', { channel: 'metrics' })).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN', missingPermissions: ['metrics:read'] },
      });
      expect(await emitAck<Ack>(v, 'subscribe', { channel: 'alerts' })).toMatchObject({ ok: true });
      const events = t.app.get(EventEmitter2);
      const metrics = nextEvent(s, 'metrics');
      const alertS = nextEvent(s, 'alert');
      const alertV = nextEvent(v, 'alert');
      events.emit(MonitoringEvents.MetricsSampled, { at: new Date().toISOString(), values: { cpu_percent: 12.5 } });
      const alert = {
        id: randomUUID(),
        ruleId: randomUUID(),
        ruleName: 'CPU high',
        state: 'firing',
        level: 'critical',
        labels: { host: 'a' },
        value: 97,
        summary: 'CPU above 95 %',
        at: new Date().toISOString(),
      };
      events.emit(MonitoringEvents.AlertChanged, alert);
      const m = await metrics;
      expectSchema('metrics', m);
      expect(m).toMatchObject({ channel: 'metrics', values: { cpu_percent: 12.5 } });
      for (const a of [await alertS, await alertV]) {
        expectSchema('alert', a);
        expect(a).toEqual({ channel: 'alerts', ...alert });
      }
    });

    it('sends report progress to the run’s owner only; any well-formed report id is accepted', async () => {
      const reportId = randomUUID();
      const owner = await open({ token: traderA.tokens.accessToken });
      const other = await open({ token: traderB.tokens.accessToken });
      for (const s of [owner, other]) {
        expect(await emitAck<Ack>(s, 'subscribe', { channel: `report:${reportId}` })).toEqual({
          ok: true,
          channel: `report:${reportId}`,
        });
      }
      expect(await emitAck<Ack>(other, 'subscribe', { channel: 'report:nope' })).toMatchObject({ ok: false });
      const leaked = nextEvent(other, 'report_progress', () => true, 500).then(
        () => true,
        () => false,
      );
      const got = nextEvent(owner, 'report_progress');
      t.app.get(EventEmitter2).emit(ReportingEvents.RunProgress, {
        reportId,
        ownerId: traderA.id,
        status: 'running',
        progress: 40,
        error: null,
        at: new Date().toISOString(),
      });
      const message = await got;
      expectSchema('report_progress', message);
      expect(message).toMatchObject({ channel: `report:${reportId}`, reportId, status: 'running', progress: 40 });
      expect(message).not.toHaveProperty('ownerId');
      expect(await leaked).toBe(false);
    });
  });

  describe('observability and documentation', () => {
    it('counts connections and subscriptions in API statistics and Prometheus', async () => {
      const s = await open({ token: viewer.tokens.accessToken });
      await emitAck(s, 'subscribe', { channel: 'prices' });
      const stats = await t.http.get('/api/v1/admin/api-stats').set(bearer(root));
      expect(stats.status).toBe(200);
      expect(stats.body.live.connections).toBeGreaterThanOrEqual(1);
      expect(stats.body.live.subscriptions.prices).toBeGreaterThanOrEqual(1);
      expect(stats.body.live.refusedConnections).toBeGreaterThanOrEqual(1);
      expect(stats.body.live.forcedDisconnects).toBeGreaterThanOrEqual(1);
      const metrics = await t.http.get('/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^live_connections \d+$/m);
      expect(metrics.text).toMatch(/^live_subscriptions\{kind="prices"\} [1-9]\d*$/m);
      expect(metrics.text).toMatch(/^live_refused_connections_total\{code="INVALID_TOKEN"\} [1-9]/m);
      expect(metrics.text).toMatch(/^live_forced_disconnects_total\{reason="session_revoked"\} [1-9]/m);
    });

    it('publishes a valid AsyncAPI 3 document at /docs/asyncapi.json, without credentials', async () => {
      const res = await t.http.get('/docs/asyncapi.json');
      expect(res.status).toBe(200);
      expect(res.body.asyncapi).toBe('3.0.0');
      const { document, diagnostics } = await new Parser().parse(res.body);
      const errors = diagnostics.filter((d) => Number(d.severity) === Number(DiagnosticSeverity.Error));
      expect(errors).toEqual([]);
      expect(document).toBeDefined();
      const addresses = document!
        .channels()
        .all()
        .map((c) => c.address());
      expect(addresses).toEqual(
        expect.arrayContaining([
          'prices',
          'security-events',
          'metrics',
          'alerts',
          'portfolio:{portfolioId}',
          'report:{reportId}',
        ]),
      );
      const messageNames = document!
        .messages()
        .all()
        .map((m) => m.name());
      expect(messageNames).toEqual(
        expect.arrayContaining([
          'trade',
          'portfolio_revalued',
          'price',
          'security_event',
          'metrics',
          'alert',
          'report_progress',
          'revoked',
          'closing',
        ]),
      );
      const openapi = await t.http.get('/docs-json');
      expect(openapi.body.info.description).toContain('/docs/asyncapi.json');
    });
  });
});
