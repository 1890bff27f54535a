import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Socket } from 'socket.io-client';
import { ReportingEvents } from '../../../src/reporting/reporting.events';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { connectLive, emitAck, nextEvent } from '../support/live';
import { startTestApp, type TestApp } from '../support/test-app';

type User = Awaited<ReturnType<typeof createUser>>;

/**
 * Who reads whose runs: the owner; with `reports:read-all` (auditor, admin) others' runs of data
 * the reader may read themselves, so an auditor reads a security report someone else ran but not
 * their trading report, and an admin reads both. The live `report:<id>` channel follows the same
 * rule, and loses the subscription when the permission goes.
 */
describe('reports: reports:read-all over REST and the live gateway', () => {
  let t: TestApp;
  let root: Tokens;
  let ops: User;
  let auditor: User;
  let admin: User;
  let viewer: User;
  let securityRun: string;
  let riskRun: string;
  const sockets: Socket[] = [];

  const settle = async (who: Tokens, id: string) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const res = await t.http.get(`/api/v1/reports/${id}`).set(bearer(who));
      if (res.body.status === 'completed' || res.body.status === 'failed') return res.body;
      if (Date.now() > until) throw new Error(`report ${id} still ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, REPORTS_POLL_INTERVAL_MS: '200', LIVE_RECHECK_INTERVAL_MS: '200' });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    [ops, auditor, admin, viewer] = await Promise.all([
      createUser(t, root, ['manager', 'auditor']),
      createUser(t, root, ['auditor']),
      createUser(t, root, ['admin']),
      createUser(t, root, ['viewer']),
    ]);
    const asOf = new Date().toISOString();
    const a = await t.http
      .post('/api/v1/reports')
      .set(bearer(ops.tokens))
      .send({ template: 'security-compliance', format: 'json', parameters: { asOf } });
    const b = await t.http
      .post('/api/v1/reports')
      .set(bearer(ops.tokens))
      .send({ template: 'risk', format: 'json', parameters: { asOf } });
    expect([a.status, b.status]).toEqual([202, 202]);
    securityRun = a.body.id;
    riskRun = b.body.id;
    expect((await settle(ops.tokens, securityRun)).status).toBe('completed');
    expect((await settle(ops.tokens, riskRun)).status).toBe('completed');
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
  });

  it('an auditor reads and downloads a security report another user ran, not their trading report', async () => {
    expect((await t.http.get(`/api/v1/reports/${securityRun}`).set(bearer(auditor.tokens))).status).toBe(200);
    const file = await t.http.get(`/api/v1/reports/${securityRun}/download`).set(bearer(auditor.tokens));
    expect(file.status).toBe(200);
    expect(file.body.template).toBe('security-compliance');
    const risk = await t.http.get(`/api/v1/reports/${riskRun}`).set(bearer(auditor.tokens));
    expect(risk.status).toBe(404);
    expect((await t.http.get(`/api/v1/reports/${riskRun}/download`).set(bearer(auditor.tokens))).status).toBe(404);

    const mine = await t.http.get('/api/v1/reports').set(bearer(auditor.tokens));
    expect(mine.body.items).toEqual([]);
    const all = await t.http.get('/api/v1/reports?owner=all').set(bearer(auditor.tokens));
    expect(all.status).toBe(200);
    const ids = all.body.items.map((r: { id: string }) => r.id);
    expect(ids).toContain(securityRun);
    expect(ids).not.toContain(riskRun);
  });

  it('an admin reads both; a viewer reads neither and may not list everyone', async () => {
    for (const id of [securityRun, riskRun]) {
      expect((await t.http.get(`/api/v1/reports/${id}`).set(bearer(admin.tokens))).status).toBe(200);
      expect((await t.http.get(`/api/v1/reports/${id}`).set(bearer(viewer.tokens))).status).toBe(404);
    }
    const all = await t.http.get('/api/v1/reports?owner=all').set(bearer(admin.tokens));
    expect(all.body.items.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([securityRun, riskRun]));
    const refused = await t.http.get('/api/v1/reports?owner=all').set(bearer(viewer.tokens));
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    const bad = await t.http.get('/api/v1/reports?owner=everyone').set(bearer(admin.tokens));
    expect(bad.status).toBe(400);
  });

  it('report:<id> follows the same rule, and is revoked when reports:read-all goes', async () => {
    const open = async (tokens: Tokens) => {
      const s = await connectLive(t, { token: tokens.accessToken });
      sockets.push(s);
      expect(await emitAck(s, 'subscribe', { channel: `report:${securityRun}` })).toMatchObject({ ok: true });
      return s;
    };
    const [byOwner, byAuditor, byViewer] = [
      await open(ops.tokens),
      await open(auditor.tokens),
      await open(viewer.tokens),
    ];
    const leaked = nextEvent(byViewer, 'report_progress', () => true, 800).then(
      () => true,
      () => false,
    );
    const toOwner = nextEvent(byOwner, 'report_progress');
    const toAuditor = nextEvent(byAuditor, 'report_progress');
    t.app.get(EventEmitter2).emit(ReportingEvents.RunProgress, {
      reportId: securityRun,
      ownerId: ops.id,
      status: 'running',
      progress: 60,
      error: null,
      at: new Date().toISOString(),
    });
    expect(await toOwner).toMatchObject({ reportId: securityRun, progress: 60 });
    expect(await toAuditor).toMatchObject({ reportId: securityRun, progress: 60 });
    expect(await leaked).toBe(false);

    // The auditor becomes a viewer: the subscription is revoked at the next recheck.
    const revoked = nextEvent<{ channel: string; code: string }>(byAuditor, 'revoked', () => true, 10_000);
    const demoted = await t.http
      .put(`/api/v1/users/${auditor.id}/roles`)
      .set(bearer(root))
      .send({ roles: ['viewer'] });
    expect(demoted.status).toBe(200);
    expect(await revoked).toMatchObject({ channel: `report:${securityRun}`, code: 'NOT_FOUND' });
  }, 30_000);
});
