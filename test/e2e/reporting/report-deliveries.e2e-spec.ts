import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { ReportDeliveryService } from '../../../src/reporting/delivery/report-delivery.service';
import { ReportSchedulesService } from '../../../src/reporting/schedules/report-schedules.service';
import { eventually, startSmtpServer } from '../monitoring/support';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

interface Hit {
  at: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A real HTTP receiver answering each POST with the next status of `answers` (the last repeats). */
async function receiver(answers: number[]): Promise<{ origin: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ at: Date.now(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') });
      res.writeHead(answers[Math.min(hits.length, answers.length) - 1]).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The report delivery outbox: deliveries are rows written with the run's outcome, retried on a
 * schedule stored in the row (0.5, 2, 8 s), taken over by another instance when the lease of the
 * one that claimed them runs out, and shown on GET /reports/{id}. The owner hears once, when the
 * run's last delivery has failed for good. Ticks are driven by the test (the poll is an hour).
 */
describe('report deliveries: a persisted outbox', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let t: TestApp;
  let root: Tokens;
  let ds: DataSource;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ ...BOOTSTRAP_ENV, REPORTS_POLL_INTERVAL_MS: '3600000', SMTP_URL: smtp.url });
    root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    ds = t.app.get(DataSource);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** Creates a schedule, makes it due and ticks: its run is queued and worked at once. */
  const runSchedule = async (body: Record<string, unknown>): Promise<string> => {
    const res = await t.http
      .post('/api/v1/report-schedules')
      .set(bearer(root))
      .send({ frequency: 'daily', time: '06:00', template: 'risk', format: 'json', ...body });
    expect(res.status).toBe(201);
    await ds.query(`UPDATE report_schedules SET next_run_at = now() - interval '1 minute' WHERE id = $1`, [
      res.body.id,
    ]);
    await t.app.get(ReportSchedulesService).tick();
    const [run] = await ds.query<{ id: string }[]>(`SELECT id FROM report_runs WHERE schedule_id = $1`, [res.body.id]);
    return run.id;
  };
  const detail = async (runId: string) => {
    const res = await t.http.get(`/api/v1/reports/${runId}`).set(bearer(root));
    expect(res.status).toBe(200);
    return res.body as { status: string; deliveries: Record<string, unknown>[] };
  };
  const noticesTo = (name: string) =>
    smtp.mails.filter((m) => m.to.includes(ADMIN_EMAIL) && m.subject === `Report failed: ${name}`);

  it('retries after 0.5, 2 and 8 s from the stored schedule, then tells the owner once, naming every failed target', async () => {
    const down = await receiver([503]);
    const gone = await receiver([404]);
    try {
      const runId = await runSchedule({
        name: 'Outbox failing',
        recipients: { webhooks: [`${down.origin}/hook?token=s3cret`, `${gone.origin}/hook?token=s3cret`] },
      });
      const notice = await eventually(() => noticesTo('Outbox failing')[0], 30_000);

      expect(gone.hits).toHaveLength(1);
      expect(down.hits).toHaveLength(4);
      const gaps = down.hits.slice(1).map((h, i) => h.at - down.hits[i].at);
      expect(gaps[0]).toBeGreaterThanOrEqual(450);
      expect(gaps[1]).toBeGreaterThanOrEqual(1950);
      expect(gaps[2]).toBeGreaterThanOrEqual(7950);
      // One delivery, four attempts: the same id and body every time.
      expect(new Set(down.hits.map((h) => h.headers['x-bastion-delivery'])).size).toBe(1);
      expect(down.hits.every((h) => JSON.stringify(h.body) === JSON.stringify(down.hits[0].body))).toBe(true);

      const text = notice.raw.replace(/=\r?\n/g, '');
      expect(text).toContain(`${down.origin} (HTTP 503, 4 attempts)`);
      expect(text).toContain(`${gone.origin} (HTTP 404, 1 attempt)`);
      expect(text).not.toContain('s3cret');

      const run = await detail(runId);
      expect(run.status).toBe('completed');
      const byTarget = Object.fromEntries(run.deliveries.map((d) => [d.target, d]));
      expect(byTarget[down.origin]).toMatchObject({
        id: down.hits[0].headers['x-bastion-delivery'],
        purpose: 'report',
        channel: 'webhook',
        status: 'failed',
        attempts: 4,
        lastError: 'HTTP 503',
        responseStatus: 503,
        nextAttemptAt: null,
      });
      expect(byTarget[gone.origin]).toMatchObject({ status: 'failed', attempts: 1, responseStatus: 404 });
      await eventually(async () => (await detail(runId)).deliveries.find((d) => d.status === 'delivered'), 10_000);
      expect((await detail(runId)).deliveries.find((d) => d.purpose === 'owner_notice')).toMatchObject({
        channel: 'email',
        target: 'owner',
        status: 'delivered',
        attempts: 1,
      });
      expect(JSON.stringify(run)).not.toContain('s3cret');

      // Nothing more is sent, however often the outbox is worked.
      await t.app.get(ReportDeliveryService).dispatchDue();
      expect(noticesTo('Outbox failing')).toHaveLength(1);
      expect(down.hits).toHaveLength(4);
    } finally {
      await down.close();
      await gone.close();
    }
  }, 60_000);

  it('a delivery claimed by an instance that stopped is taken over when its lease runs out, and not before', async () => {
    const hook = await receiver([204]);
    try {
      const runId = await runSchedule({ name: 'Outbox takeover', recipients: { emails: ['desk@example.com'] } });
      await eventually(() => smtp.mails.find((m) => m.subject.startsWith('Report: Outbox takeover')), 10_000);

      // Two webhook deliveries of the run, each claimed by an instance that then stopped: one
      // lease ran out a second ago, the other runs for another minute.
      const leased = async (lockedUntil: string) =>
        (
          await ds.query<{ id: string }[]>(
            `INSERT INTO report_deliveries (run_id, purpose, channel, target, payload, status, attempts, locked_by,
                                            locked_until, next_attempt_at)
             VALUES ($1, 'report', 'webhook', $2, $3::jsonb, 'pending', 1, 'stopped-instance', ${lockedUntil},
                     now() - interval '5 seconds')
             RETURNING id`,
            [runId, `${hook.origin}/hook`, JSON.stringify({ event: 'report.completed', reportId: runId })],
          )
        )[0].id;
      const expired = await leased(`now() - interval '1 second'`);
      const held = await leased(`now() + interval '1 minute'`);

      await t.app.get(ReportDeliveryService).dispatchDue();
      expect(hook.hits.map((h) => h.headers['x-bastion-delivery'])).toEqual([expired]);
      expect(hook.hits[0].body).toEqual({ event: 'report.completed', reportId: runId });
      const deliveries = (await detail(runId)).deliveries;
      expect(deliveries.find((d) => d.id === expired)).toMatchObject({ status: 'delivered', attempts: 2 });
      expect(deliveries.find((d) => d.id === held)).toMatchObject({ status: 'pending', attempts: 1 });
      expect(deliveries.find((d) => d.channel === 'email')).toMatchObject({
        purpose: 'report',
        target: 'desk@example.com',
        status: 'delivered',
        attempts: 1,
      });
    } finally {
      await hook.close();
    }
  }, 60_000);

  it('a failed run tells its owner through the outbox; a run with no recipients has no deliveries', async () => {
    // A custom template that throws fails its run.
    const tpl = await t.http
      .post('/api/v1/reports/templates')
      .set(bearer(root))
      .send({ name: 'Throws', dataSource: 'risk', body: '<% throw new Error("boom") %>' });
    expect(tpl.status).toBe(201);
    const failedRun = await runSchedule({ name: 'Outbox broken', template: tpl.body.key, format: 'html' });
    const notice = await eventually(() => noticesTo('Outbox broken')[0], 10_000);
    expect(notice.raw).toContain('failed');
    const failed = await detail(failedRun);
    expect(failed.status).toBe('failed');
    expect(failed.deliveries).toEqual([
      expect.objectContaining({ purpose: 'owner_notice', target: 'owner', status: 'delivered' }),
    ]);

    const quiet = await runSchedule({ name: 'Outbox quiet' });
    await eventually(async () => ((await detail(quiet)).status === 'completed' ? true : undefined), 10_000);
    expect((await detail(quiet)).deliveries).toEqual([]);
  }, 60_000);
});
