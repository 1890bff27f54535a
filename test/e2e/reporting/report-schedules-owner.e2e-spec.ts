import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { ReportRunsRepository } from '../../../src/reporting/runs/report-runs.repository';
import { ReportSchedulesService } from '../../../src/reporting/schedules/report-schedules.service';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Schedules and their owner: a suspended owner's schedules pause and resume when the owner is
 * reactivated; a scheduled run uses the owner's permissions at the time it runs (a removed role
 * skips the occurrence and tells the owner). And the scheduler's claim: an occurrence is taken
 * only together with its run, so a failure between the two loses nothing, and two instances
 * ticking at once take it once. Ticks are driven by the test (the poll interval is an hour).
 */
describe('report schedules: owner status and permissions, one occurrence one run', () => {
  const mails: { to: string[]; data: string }[] = [];
  let smtp: SMTPServer;
  let t: TestApp;
  let other: TestApp | undefined;
  let root: Tokens;
  let ds: DataSource;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString() });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const env = {
      ...BOOTSTRAP_ENV,
      REPORTS_POLL_INTERVAL_MS: '3600000',
      SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    };
    t = await startTestApp(env);
    if (t.database.mode === 'cluster') other = await startTestApp(env, { shareDatabaseOf: t });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    ds = t.app.get(DataSource);
  }, 120_000);

  afterAll(async () => {
    await other?.close();
    await t?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  const tick = (app: TestApp = t) => app.app.get(ReportSchedulesService).tick();
  const makeDue = (id: string) =>
    ds.query(`UPDATE report_schedules SET next_run_at = now() - interval '1 minute' WHERE id = $1`, [id]);
  const runsOf = async (id: string) =>
    (await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM report_runs WHERE schedule_id = $1`, [id]))[0].n;
  const schedule = async (id: string) =>
    (
      await ds.query<{ status: string; paused_reason: string | null; next_run_at: Date | null }[]>(
        `SELECT status, paused_reason, next_run_at FROM report_schedules WHERE id = $1`,
        [id],
      )
    )[0];
  const create = async (who: Tokens, body: Record<string, unknown>) => {
    const res = await t.http
      .post('/api/v1/report-schedules')
      .set(bearer(who))
      .send({ frequency: 'daily', time: '06:00', ...body });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it("a suspended owner's schedules pause, and resume when the owner is reactivated", async () => {
    const owner = await createUser(t, root, ['manager']);
    const id = await create(owner.tokens, { name: 'Owner risk', template: 'risk', format: 'json' });
    const suspended = await t.http
      .post(`/api/v1/users/${owner.id}/status`)
      .set(bearer(root))
      .send({ status: 'suspended', reason: 'On leave' });
    expect(suspended.status).toBe(200);
    await makeDue(id);

    await tick();
    expect(await schedule(id)).toMatchObject({ status: 'paused', paused_reason: 'owner_inactive', next_run_at: null });
    expect(await runsOf(id)).toBe(0);
    // A paused schedule stays paused over further ticks.
    await tick();
    expect(await runsOf(id)).toBe(0);

    const reactivated = await t.http
      .post(`/api/v1/users/${owner.id}/status`)
      .set(bearer(root))
      .send({ status: 'active', reason: 'Back' });
    expect(reactivated.status).toBe(200);
    await tick();
    const resumed = await schedule(id);
    expect(resumed).toMatchObject({ status: 'active', paused_reason: null });
    // From the next occurrence: nothing missed while suspended runs.
    expect(resumed.next_run_at!.getTime()).toBeGreaterThan(Date.now());
    expect(await runsOf(id)).toBe(0);
    const tokens = await login(t, owner.email, owner.password);
    const list = await t.http.get('/api/v1/report-schedules').set(bearer(tokens));
    const seen = list.body.find((x: { id: string }) => x.id === id);
    expect(seen).toMatchObject({ status: 'active', pausedReason: null });
    expect(seen.nextRunTimes).toHaveLength(5);
  }, 60_000);

  it('a schedule paused by hand stays paused when its owner is reactivated', async () => {
    const owner = await createUser(t, root, ['manager']);
    const id = await create(owner.tokens, { name: 'Hand paused', template: 'risk', format: 'json' });
    await t.http.patch(`/api/v1/report-schedules/${id}`).set(bearer(owner.tokens)).send({ status: 'paused' });
    await t.http.post(`/api/v1/users/${owner.id}/status`).set(bearer(root)).send({ status: 'suspended', reason: 'x' });
    await tick();
    await t.http.post(`/api/v1/users/${owner.id}/status`).set(bearer(root)).send({ status: 'active', reason: 'y' });
    await tick();
    expect(await schedule(id)).toMatchObject({ status: 'paused', paused_reason: null });
  }, 60_000);

  it("a scheduled run uses the owner's current permissions: a removed role skips it and tells the owner", async () => {
    const owner = await createUser(t, root, ['manager', 'auditor']);
    const id = await create(owner.tokens, {
      name: 'Access review',
      template: 'security-compliance',
      format: 'csv',
      recipients: { emails: ['compliance@example.com'] },
    });
    const demoted = await t.http
      .put(`/api/v1/users/${owner.id}/roles`)
      .set(bearer(root))
      .send({ roles: ['manager'] });
    expect(demoted.status).toBe(200);
    await makeDue(id);
    mails.length = 0;

    await tick();
    expect(await runsOf(id)).toBe(0);
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual([owner.email]);
    expect(mails[0].data).toContain('could not run');
    expect(mails[0].data).toMatch(/audit:verify/);
    // The occurrence is skipped, not retried on every tick.
    expect((await schedule(id)).next_run_at!.getTime()).toBeGreaterThan(Date.now());
    await tick();
    expect(mails).toHaveLength(1);

    // The role back: the next occurrence runs and reaches its recipients.
    await t.http
      .put(`/api/v1/users/${owner.id}/roles`)
      .set(bearer(root))
      .send({ roles: ['manager', 'auditor'] });
    await makeDue(id);
    await tick();
    expect(await runsOf(id)).toBe(1);
    const until = Date.now() + 60_000;
    while (!mails.some((m) => m.to.includes('compliance@example.com')) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(mails.find((m) => m.to.includes('compliance@example.com'))?.data).toContain(
      'Subject: Report: Access review',
    );
  }, 90_000);

  it('an occurrence is taken only with its run: a failure between the two loses nothing', async () => {
    const id = await create(root, { name: 'Fragile', template: 'risk', format: 'json' });
    await makeDue(id);
    const due = (await schedule(id)).next_run_at!;
    // The database refuses the run's insert once (as a dropped connection or a crash would).
    const runs = t.app.get(ReportRunsRepository);
    const insert = jest.spyOn(runs, 'insert').mockRejectedValueOnce(new Error('connection terminated unexpectedly'));
    let calls: number;
    try {
      await tick();
      calls = insert.mock.calls.length;
    } finally {
      insert.mockRestore();
    }
    expect(calls).toBe(1);
    // The occurrence is still due: no run was acknowledged, nothing was moved past it.
    expect(await runsOf(id)).toBe(0);
    expect((await schedule(id)).next_run_at).toEqual(due);

    await tick();
    expect(await runsOf(id)).toBe(1);
    expect((await schedule(id)).next_run_at!.getTime()).toBeGreaterThan(Date.now());
    await tick();
    expect(await runsOf(id)).toBe(1);
  }, 60_000);

  it('two instances ticking at once take each due occurrence exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await create(root, { name: `Race ${i}`, template: 'risk', format: 'json' }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(ids.map(makeDue));
      await Promise.all([tick(t), tick(other ?? t), tick(t), tick(other ?? t)]);
      for (const id of ids) expect(await runsOf(id)).toBe(round + 1);
    }
  }, 90_000);
  it('webhook delivery is retried against a real receiver that fails, then succeeds', async () => {
    const received: { body: string; status: number }[] = [];
    let arrived: () => void = () => undefined;
    const second = new Promise<void>((resolve) => (arrived = resolve));
    // Answers 503 to the first POST, 204 to the next one.
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = received.length === 0 ? 503 : 204;
        received.push({ body: Buffer.concat(chunks).toString(), status });
        res.writeHead(status).end();
        if (received.length === 2) arrived();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/reports?token=s3cret`;
      const id = await create(root, {
        name: 'Hooked',
        template: 'risk',
        format: 'json',
        recipients: { webhooks: [url] },
      });
      await makeDue(id);
      mails.length = 0;
      await tick();
      await second;
      expect(received.map((r) => r.status)).toEqual([503, 204]);
      const [first, retried] = received.map((r) => JSON.parse(r.body));
      expect(retried).toEqual(first);
      const run = (
        await ds.query<{ id: string; sha256: string; size: string }[]>(
          `SELECT id, sha256, size FROM report_runs WHERE schedule_id = $1`,
          [id],
        )
      )[0];
      expect(retried).toMatchObject({
        event: 'report.completed',
        scheduleId: id,
        reportId: run.id,
        sha256: run.sha256,
        size: Number(run.size),
      });
      // Delivered in the end: no failure notice to the owner.
      expect(mails.filter((m) => m.to.includes(ADMIN_EMAIL))).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  }, 60_000);

  it('a webhook that refuses for good is not retried, and the owner is told without the URL secret', async () => {
    let hits = 0;
    const receiver: Server = createServer((req, res) => {
      hits++;
      req.resume();
      req.on('end', () => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const id = await create(root, {
        name: 'Gone hook',
        template: 'risk',
        format: 'json',
        recipients: { webhooks: [`${origin}/hooks?token=s3cret`] },
      });
      await makeDue(id);
      mails.length = 0;
      await tick();
      const until = Date.now() + 60_000;
      while (!mails.some((m) => m.to.includes(ADMIN_EMAIL)) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // The body is quoted-printable: undo its soft line breaks.
      const notice = mails.find((m) => m.to.includes(ADMIN_EMAIL))!.data.replace(/=\r?\n/g, '');
      expect(notice).toContain('could not be delivered');
      expect(notice).toContain(`${origin} (HTTP 404, 1 attempt)`);
      expect(notice).not.toContain('s3cret');
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  }, 60_000);
});
