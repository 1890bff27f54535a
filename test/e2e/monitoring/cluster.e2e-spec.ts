import { MetricsService } from '../../../src/monitoring/metrics/metrics.service';
import { MonitoringScheduler } from '../../../src/monitoring/monitoring.scheduler';
import { NotificationsService } from '../../../src/monitoring/notifications/notifications.service';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually, startWebhookReceiver, TestGauge, testMetricsModule } from './support';

const SECRET = 'cluster-webhook-secret-0123456789';
const cluster = process.env.DATABASE_URL ? describe : describe.skip;

// Two instances need a shared PostgreSQL: the embedded engine serves one process (skipped without DATABASE_URL).
cluster('Monitoring across two instances on one database', () => {
  const gauge = new TestGauge();
  let a: TestApp;
  let b: TestApp;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;

  beforeAll(async () => {
    hook = await startWebhookReceiver(SECRET);
    const env = { ...BOOTSTRAP_ENV, MONITORING_INTERVAL_SECONDS: '3600' };
    a = await startTestApp({ ...env, MONITORING_INSTANCE: 'node-a' }, { imports: [testMetricsModule(gauge)] });
    b = await startTestApp({ ...env, MONITORING_INSTANCE: 'node-b' }, { shareDatabaseOf: a });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await hook?.close();
  });

  const evaluationsTotal = async (t: TestApp): Promise<number> => {
    const text = (await t.http.get('/metrics')).text;
    return Number(/^bastion_alert_evaluations_total (\d+)$/m.exec(text)?.[1] ?? 'NaN');
  };

  it('evaluates once per interval and delivers each notification once', async () => {
    const admin = await login(a, ADMIN_EMAIL, ADMIN_PASSWORD);
    const rule = await a.http
      .post('/api/v1/monitoring/alert-rules')
      .set(bearer(admin))
      .send({
        name: 'ClusterGaugeHigh',
        metric: 'test_gauge',
        operator: '>=',
        threshold: 10,
        level: 'error',
        targets: [{ type: 'webhook', url: hook.url, secret: SECRET }],
      });
    expect(rule.status).toBe(201);

    gauge.value = 42;
    await a.app.get(MetricsService).collect();

    // Both instances' ticks for the same interval, at once: one claims the slot and evaluates.
    const now = new Date();
    const claimed = await Promise.all([
      a.app.get(MonitoringScheduler).runEvaluation(now),
      b.app.get(MonitoringScheduler).runEvaluation(now),
    ]);
    expect(claimed.filter(Boolean)).toHaveLength(1);
    expect((await evaluationsTotal(a)) + (await evaluationsTotal(b))).toBe(1);

    // Both deliver what is due, at once: the outbox row is claimed by one of them.
    await Promise.all([a.app.get(NotificationsService).dispatchDue(), b.app.get(NotificationsService).dispatchDue()]);
    await eventually(() => hook.calls[0]);
    await Promise.all([a.app.get(NotificationsService).dispatchDue(), b.app.get(NotificationsService).dispatchDue()]);
    expect(hook.calls).toHaveLength(1);
    expect(hook.calls[0].signatureValid).toBe(true);
    expect(hook.calls[0].body).toMatchObject({ status: 'firing', alerts: [{ labels: { instance: 'node-a' } }] });

    // An hour later (the next interval, and MONITORING_REMINDER_MINUTES=60 past the notification):
    // claimed once again, and the unacknowledged alert sends one reminder.
    const later = new Date(now.getTime() + 3600_000);
    const again = await Promise.all([
      b.app.get(MonitoringScheduler).runEvaluation(later),
      a.app.get(MonitoringScheduler).runEvaluation(later),
    ]);
    expect(again.filter(Boolean)).toHaveLength(1);
    await Promise.all([a.app.get(NotificationsService).dispatchDue(), b.app.get(NotificationsService).dispatchDue()]);
    await eventually(() => hook.calls[1]);
    await Promise.all([a.app.get(NotificationsService).dispatchDue(), b.app.get(NotificationsService).dispatchDue()]);
    expect(hook.calls).toHaveLength(2);
    expect(hook.calls[1].body.bastion.kind).toBe('reminder');

    // Both instances see the one alert.
    // (each test instance has its own signing key: sign in on b)
    const adminOnB = await login(b, ADMIN_EMAIL, ADMIN_PASSWORD);
    const listed = await b.http.get('/api/v1/monitoring/alerts?state=firing').set(bearer(adminOnB));
    expect((listed.body as { items: unknown[] }).items).toHaveLength(1);
  });
});
