import { AlertsService } from '../../../src/monitoring/alerts/alerts.service';
import { MetricsService } from '../../../src/monitoring/metrics/metrics.service';
import { NotificationsService } from '../../../src/monitoring/notifications/notifications.service';
import { BOOTSTRAP_ENV, bearer, createUser, login, ADMIN_EMAIL, ADMIN_PASSWORD, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually, startSmtpServer, startWebhookReceiver, TestGauge, testMetricsModule } from './support';

const SECRET = 'webhook-signing-secret-0123456789';

interface AlertBody {
  id: string;
  state: string;
  level: string;
  labels: Record<string, string>;
  value: number | null;
  summary: string | null;
  acknowledgedBy: string | null;
  acknowledgeNote: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
}

describe('Monitoring: a rule on a test metric through its whole lifecycle', () => {
  const gauge = new TestGauge();
  let t: TestApp;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let admin: Tokens;
  let adminId: string;
  let viewer: Tokens;
  let auditor: Tokens;
  let ruleId: string;
  let metrics: MetricsService;
  let alerts: AlertsService;
  let notifications: NotificationsService;

  /** Sets the gauge, samples and evaluates, as one scheduler tick would (without waiting for it). */
  const tick = async (value: number): Promise<void> => {
    gauge.value = value;
    await metrics.collect();
    await alerts.evaluate();
  };
  const alertsOfRule = async (query = ''): Promise<AlertBody[]> => {
    const res = await t.http.get(`/api/v1/monitoring/alerts?rule=${ruleId}${query}`).set(bearer(admin));
    expect(res.status).toBe(200);
    return (res.body as { items: AlertBody[] }).items;
  };

  beforeAll(async () => {
    hook = await startWebhookReceiver(SECRET);
    smtp = await startSmtpServer();
    t = await startTestApp(
      {
        ...BOOTSTRAP_ENV,
        MONITORING_INTERVAL_SECONDS: '3600',
        MONITORING_INSTANCE: 'node-a',
        SMTP_URL: smtp.url,
        SMTP_FROM: 'Bastion Alerts <alerts@example.com>',
      },
      { imports: [testMetricsModule(gauge)] },
    );
    metrics = t.app.get(MetricsService);
    alerts = t.app.get(AlertsService);
    notifications = t.app.get(NotificationsService);
    admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    adminId = ((await t.http.get('/api/v1/me').set(bearer(admin))).body as { id: string }).id;
    viewer = (await createUser(t, admin, ['viewer'])).tokens;
    auditor = (await createUser(t, admin, ['auditor'])).tokens;
  });

  afterAll(async () => {
    await t?.close();
    await hook?.close();
    await smtp?.close();
  });

  it('has the two default rules and a catalogue that includes the test metric', async () => {
    const rules = await t.http.get('/api/v1/monitoring/alert-rules').set(bearer(viewer));
    expect(rules.status).toBe(200);
    const names = (rules.body as { items: { name: string; metric: string; threshold: number; forSeconds: number }[] })
      .items;
    expect(names).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'HostCpuHigh',
          metric: 'host_cpu_usage_percent',
          threshold: 80,
          forSeconds: 300,
        }),
        expect.objectContaining({
          name: 'HostMemoryHigh',
          metric: 'host_memory_usage_percent',
          threshold: 85,
          forSeconds: 300,
        }),
      ]),
    );
    const catalogue = await t.http.get('/api/v1/monitoring/alert-rules/catalogue').set(bearer(viewer));
    expect(catalogue.status).toBe(200);
    const items = (catalogue.body as { items: { name: string; labels: string[] }[] }).items;
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'test_gauge' }),
        expect.objectContaining({ name: 'host_disk_usage_percent', labels: ['mount'] }),
      ]),
    );
  });

  it('refuses rule changes to a viewer (403) and unknown metrics (400)', async () => {
    const body = { name: 'Nope', metric: 'test_gauge', operator: '>', threshold: 1, level: 'info' };
    expect((await t.http.post('/api/v1/monitoring/alert-rules').set(bearer(viewer)).send(body)).status).toBe(403);
    const bad = await t.http
      .post('/api/v1/monitoring/alert-rules')
      .set(bearer(admin))
      .send({ ...body, metric: 'no_such_metric' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('metric');
  });

  it('creates a rule with a webhook and an email target, never showing the secret', async () => {
    const res = await t.http
      .post('/api/v1/monitoring/alert-rules')
      .set(bearer(admin))
      .send({
        name: 'TestGaugeHigh',
        metric: 'test_gauge',
        operator: '>',
        threshold: 50,
        forSeconds: 1,
        level: 'critical',
        labels: { team: 'qa' },
        annotations: {
          summary: 'Test gauge at {{ value }} on {{ labels.instance }}',
          runbookUrl: 'https://example.com/rb',
        },
        targets: [
          { type: 'webhook', url: hook.url, secret: SECRET },
          { type: 'email', to: ['oncall@example.com'] },
        ],
      });
    expect(res.status).toBe(201);
    ruleId = (res.body as { id: string }).id;
    expect(res.body).toMatchObject({
      targets: [
        { type: 'webhook', url: hook.url, secretSet: true },
        { type: 'email', to: ['oncall@example.com'], smtpUrlSet: false },
      ],
    });
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
    const listed = await t.http.get('/api/v1/monitoring/alert-rules').set(bearer(admin));
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
  });

  it('goes pending, then fires after `for`, notifying the signed webhook and the SMTP server', async () => {
    await tick(90);
    const [pending] = await alertsOfRule();
    expect(pending).toMatchObject({ state: 'pending', level: 'critical', value: 90 });
    expect(pending.labels).toMatchObject({
      alertname: 'TestGaugeHigh',
      instance: 'node-a',
      severity: 'critical',
      team: 'qa',
    });
    expect(hook.calls).toHaveLength(0);

    // `for` is 1 s: evaluate until it has held that long (bounded).
    const firing = await eventually(async () => {
      await tick(91);
      const [a] = await alertsOfRule();
      return a.state === 'firing' ? a : undefined;
    }, 5000);
    expect(firing.id).toBe(pending.id);
    expect(firing.summary).toBe('Test gauge at 91 on node-a');

    const call = await eventually(() => hook.calls[0]);
    expect(call.signatureValid).toBe(true);
    expect(call.body).toMatchObject({
      version: '4',
      status: 'firing',
      bastion: { kind: 'firing', alertId: firing.id },
    });
    expect(call.body.alerts[0].labels.alertname).toBe('TestGaugeHigh');
    expect(call.body.alerts[0].annotations).toMatchObject({
      summary: 'Test gauge at 91 on node-a',
      runbookUrl: 'https://example.com/rb',
    });

    const mail = await eventually(() => smtp.mails[0]);
    expect(mail.to).toEqual(['oncall@example.com']);
    expect(mail.subject).toContain('[FIRING] TestGaugeHigh');
    expect(mail.raw).toContain('From: Bastion Alerts <alerts@example.com>');
  });

  it('is acknowledged with a note (still firing as far as the condition goes), by alerts:manage only', async () => {
    const [a] = await alertsOfRule();
    expect(
      (await t.http.post(`/api/v1/monitoring/alerts/${a.id}/acknowledge`).set(bearer(viewer)).send({ note: 'x' }))
        .status,
    ).toBe(403);
    const res = await t.http
      .post(`/api/v1/monitoring/alerts/${a.id}/acknowledge`)
      .set(bearer(admin))
      .send({ note: 'Looking into it' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: adminId,
      acknowledgeNote: 'Looking into it',
    });
    const again = await t.http.post(`/api/v1/monitoring/alerts/${a.id}/acknowledge`).set(bearer(admin)).send({});
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'ALERT_STATE_CONFLICT' });

    await tick(95); // the condition still holds: it stays acknowledged, no new notification
    const [still] = await alertsOfRule();
    expect(still).toMatchObject({ id: a.id, state: 'acknowledged', value: 95 });
  });

  it('resolves by itself when the condition clears and sends the resolve notification', async () => {
    const [a] = await alertsOfRule();
    await tick(10);
    const [resolved] = await alertsOfRule();
    expect(resolved).toMatchObject({ id: a.id, state: 'resolved', resolvedBy: null });
    expect(resolved.resolvedAt).not.toBeNull();

    const call = await eventually(() => hook.calls[1]);
    expect(call.signatureValid).toBe(true);
    expect(call.body).toMatchObject({
      status: 'resolved',
      bastion: { kind: 'resolved', acknowledgeNote: 'Looking into it' },
    });
    const mail = await eventually(() => smtp.mails[1]);
    expect(mail.subject).toContain('[RESOLVED] TestGaugeHigh');

    const deliveries = await t.http.get(`/api/v1/monitoring/alerts/${a.id}/notifications`).set(bearer(viewer));
    expect(deliveries.status).toBe(200);
    const items = (deliveries.body as { items: { kind: string; channel: string; status: string; attempts: number }[] })
      .items;
    expect(items.map((d) => `${d.kind}/${d.channel}/${d.status}/${d.attempts}`).sort()).toEqual([
      'firing/email/delivered/1',
      'firing/webhook/delivered/1',
      'resolved/email/delivered/1',
      'resolved/webhook/delivered/1',
    ]);
  });

  it('a silence mutes notifications but the alert still fires and is listed', async () => {
    expect(
      (
        await t.http
          .post('/api/v1/monitoring/silences')
          .set(bearer(viewer))
          .send({
            matchers: [{ name: 'alertname', value: 'TestGaugeHigh' }],
            endsAt: new Date(Date.now() + 3600_000),
            comment: 'x',
          })
      ).status,
    ).toBe(403);
    const silence = await t.http
      .post('/api/v1/monitoring/silences')
      .set(bearer(admin))
      .send({
        matchers: [{ name: 'alertname', value: 'TestGauge.*', isRegex: true }],
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
        comment: 'Planned test',
      });
    expect(silence.status).toBe(201);
    expect(silence.body).toMatchObject({ active: true, comment: 'Planned test' });

    const firing = await eventually(async () => {
      await tick(99);
      const [a] = await alertsOfRule('&state=firing');
      return a;
    }, 5000);
    await notifications.dispatchDue();
    expect(hook.calls).toHaveLength(2);
    expect(smtp.mails).toHaveLength(2);
    const deliveries = await t.http.get(`/api/v1/monitoring/alerts/${firing.id}/notifications`).set(bearer(admin));
    expect((deliveries.body as { items: { status: string }[] }).items.map((d) => d.status)).toEqual([
      'suppressed',
      'suppressed',
    ]);

    // Resolved by hand, with a note; expiring the silence is audited too.
    const resolved = await t.http
      .post(`/api/v1/monitoring/alerts/${firing.id}/resolve`)
      .set(bearer(admin))
      .send({ note: 'Done testing' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ state: 'resolved', resolvedBy: adminId });
    const del = await t.http
      .delete(`/api/v1/monitoring/silences/${(silence.body as { id: string }).id}`)
      .set(bearer(admin));
    expect(del.status).toBe(204);
    const listed = await t.http.get('/api/v1/monitoring/silences?includeExpired=true').set(bearer(viewer));
    expect((listed.body as { items: { active: boolean }[] }).items[0].active).toBe(false);
  });

  it('keeps the history, filterable by state and level, paginated', async () => {
    const all = await alertsOfRule();
    expect(all.length).toBe(2);
    expect(await alertsOfRule('&state=resolved')).toHaveLength(2);
    expect(await alertsOfRule('&level=info')).toHaveLength(0);
    const page = await t.http.get(`/api/v1/monitoring/alerts?rule=${ruleId}&limit=1`).set(bearer(viewer));
    expect(page.status).toBe(200);
    const next = await t.http
      .get(
        `/api/v1/monitoring/alerts?rule=${ruleId}&limit=1&cursor=${(page.body as { nextCursor: string }).nextCursor}`,
      )
      .set(bearer(viewer));
    expect((next.body as { items: AlertBody[] }).items[0].id).not.toBe(
      (page.body as { items: AlertBody[] }).items[0].id,
    );
  });

  it('lets an auditor see the audit entries of rule changes, acknowledgements, resolutions and silences', async () => {
    const patched = await t.http
      .patch(`/api/v1/monitoring/alert-rules/${ruleId}`)
      .set(bearer(admin))
      .send({ threshold: 60 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ threshold: 60, targets: [{ secretSet: true }, { type: 'email' }] });

    for (const action of [
      'alert_rule.created',
      'alert_rule.updated',
      'alert.acknowledged',
      'alert.resolved',
      'silence.created',
      'silence.expired',
    ]) {
      const res = await t.http.get(`/api/v1/audit-events?action=${action}`).set(bearer(auditor));
      expect(res.status).toBe(200);
      const items = (res.body as { items: { actorId: string; details: Record<string, unknown> }[] }).items;
      expect(items.length).toBeGreaterThanOrEqual(1);
      expect(items[0].actorId).toBe(adminId);
      expect(JSON.stringify(items)).not.toContain(SECRET);
    }
    const ack = await t.http.get('/api/v1/audit-events?action=alert.acknowledged').set(bearer(auditor));
    expect((ack.body as { items: { details: { note: string } }[] }).items[0].details.note).toBe('Looking into it');
    expect((await t.http.get('/api/v1/audit-events').set(bearer(viewer))).status).toBe(403);
  });

  it('serves current metrics, a series and the dashboard', async () => {
    const current = await t.http.get('/api/v1/monitoring/metrics').set(bearer(admin));
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ instance: 'node-a' });
    const values = (current.body as { values: Record<string, number> }).values;
    expect(values.test_gauge).toBe(99);
    expect(values.host_memory_total_bytes).toBeGreaterThan(0);
    expect(values.host_cpu_usage_percent).toBeGreaterThanOrEqual(0);
    expect(values.ready).toBe(1);

    const from = new Date(Date.now() - 600_000).toISOString();
    const series = await t.http
      .get(`/api/v1/monitoring/metrics?metric=test_gauge,host_memory_usage_percent&from=${from}&step=60`)
      .set(bearer(admin));
    expect(series.status).toBe(200);
    const s = series.body as {
      source: string;
      series: { metric: string; labels: Record<string, string>; points: [string, number][] }[];
    };
    expect(s.source).toBe('raw');
    const test = s.series.find((x) => x.metric === 'test_gauge');
    expect(test?.labels.instance).toBe('node-a');
    expect(test?.points.length).toBeGreaterThanOrEqual(1);
    expect((await t.http.get('/api/v1/monitoring/metrics').set(bearer(viewer))).status).toBe(403);

    const dash = await t.http.get('/api/v1/monitoring/dashboard').set(bearer(viewer));
    expect(dash.status).toBe(200);
    expect(dash.body).toMatchObject({
      status: { database: { up: true }, redis: expect.any(String) },
      alerts: { byLevel: expect.any(Object) },
      current: { instance: 'node-a' },
    });
    expect(
      (dash.body as { sparklines: Record<string, unknown[]> }).sparklines.host_memory_usage_percent.length,
    ).toBeGreaterThan(0);
  });

  it('rolls raw samples up into 1-minute averages', async () => {
    await metrics.maintain(new Date(Date.now() + 120_000));
    const from = new Date(Date.now() - 40 * 86_400_000 + 60_000).toISOString();
    const res = await t.http
      .get(`/api/v1/monitoring/metrics?metric=test_gauge&from=${from}&step=3600`)
      .set(bearer(admin));
    expect(res.status).toBe(200);
    const body = res.body as { source: string; series: { points: [string, number][] }[] };
    expect(body.source).toBe('rollup');
    expect(body.series[0].points.length).toBeGreaterThanOrEqual(1);
  });
});
