import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * A due schedule runs exactly once and its email reaches a real SMTP server. With DATABASE_URL
 * (cluster mode) two instances share the database and both try to claim it; embedded mode has
 * one instance per database, so there the test shows the single-instance path.
 */
describe('report schedules: claimed once, delivered by email', () => {
  const mails: { to: string[]; data: string }[] = [];
  let smtp: SMTPServer;
  let first: TestApp;
  let second: TestApp | undefined;
  let root: Tokens;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    const env = { ...BOOTSTRAP_ENV, REPORTS_POLL_INTERVAL_MS: '200', SMTP_URL: `smtp://127.0.0.1:${port}` };
    first = await startTestApp(env);
    if (first.database.mode === 'cluster') second = await startTestApp(env, { shareDatabaseOf: first });
    root = await login(first, ADMIN_EMAIL, ADMIN_PASSWORD);
  }, 120_000);

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  it('validates schedules: frequency, cron, time zone, recipients', async () => {
    const res = await first.http
      .post('/api/v1/report-schedules')
      .set(bearer(root))
      .send({
        name: 'Bad',
        template: 'risk',
        format: 'json',
        frequency: 'cron',
        cron: '61 * * * *',
        timeZone: 'Mars/Olympus',
        recipients: { emails: ['nope'] },
      });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'cron',
      'recipients.emails.0',
      'timeZone',
    ]);
  });

  it('a due schedule runs exactly once and its email arrives with the file attached', async () => {
    const created = await first.http
      .post('/api/v1/report-schedules')
      .set(bearer(root))
      .send({
        name: 'Morning risk',
        template: 'security-compliance',
        format: 'csv',
        frequency: 'daily',
        time: '06:30',
        timeZone: 'Europe/London',
        recipients: { emails: ['desk@example.com'] },
      });
    expect(created.status).toBe(201);
    expect(created.body.nextRunTimes).toHaveLength(5);
    const id = created.body.id as string;

    // As if every instance had been down when it was due: the missed run happens once.
    const ds = first.app.get(DataSource);
    await ds.query(`UPDATE report_schedules SET next_run_at = now() - interval '1 hour' WHERE id = $1`, [id]);

    const until = Date.now() + 60_000;
    while (mails.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(['desk@example.com']);
    expect(mails[0].data).toContain('Subject: Report: Morning risk');
    expect(mails[0].data).toMatch(/filename="?security-compliance-v1-/);

    // Several more ticks of both instances: still one run, one mail, and the next run is tomorrow.
    await new Promise((r) => setTimeout(r, 1500));
    const runs = await ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM report_runs WHERE schedule_id = $1`, [
      id,
    ]);
    expect(runs[0].n).toBe(1);
    expect(mails).toHaveLength(1);
    const after = await first.http.get('/api/v1/report-schedules').set(bearer(root));
    const s = after.body.find((x: { id: string }) => x.id === id);
    expect(new Date(s.nextRunAt).getTime()).toBeGreaterThan(Date.now());
    expect(s.lastRunId).toEqual(expect.any(String));
  }, 90_000);

  it('pause and resume', async () => {
    const created = await first.http
      .post('/api/v1/report-schedules')
      .set(bearer(root))
      .send({ name: 'Weekly', template: 'risk', format: 'json', frequency: 'weekly' });
    const paused = await first.http
      .patch(`/api/v1/report-schedules/${created.body.id}`)
      .set(bearer(root))
      .send({ status: 'paused' });
    expect(paused.body).toMatchObject({ status: 'paused', nextRunAt: null, nextRunTimes: [] });
    const resumed = await first.http
      .patch(`/api/v1/report-schedules/${created.body.id}`)
      .set(bearer(root))
      .send({ status: 'active' });
    expect(resumed.body.status).toBe('active');
    expect(new Date(resumed.body.nextRunAt).getUTCDay()).toBe(1);
  });
});
