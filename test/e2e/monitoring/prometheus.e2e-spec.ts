import { execFileSync, spawnSync } from 'node:child_process';
import { MetricsService } from '../../../src/monitoring/metrics/metrics.service';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, login } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';
import { lintExposition } from './exposition-lint';

function promtool(): string | undefined {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return 'promtool';
  } catch {
    return undefined;
  }
}

describe('Prometheus exposition', () => {
  let t: TestApp;
  let text: string;

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, MONITORING_INTERVAL_SECONDS: '3600', MONITORING_INSTANCE: 'prom' });
    const admin = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    await t.http.post('/api/v1/auth/login').send({ email: ADMIN_EMAIL, password: 'wrong-password-123' });
    const portfolio = await t.http
      .post('/api/v1/portfolios')
      .set(bearer(admin))
      .send({ name: 'P', baseCurrency: 'USD' });
    if (portfolio.status === 201) {
      await t.http
        .post(`/api/v1/portfolios/${(portfolio.body as { id: string }).id}/trades`)
        .set(bearer(admin))
        .send({ symbol: 'AAPL', side: 'buy', quantity: '1', price: '10', executedAt: new Date().toISOString() });
    }
    await t.app.get(MetricsService).collect();
    await new Promise((r) => setTimeout(r, 20));
    await t.app.get(MetricsService).collect();
    const res = await t.http.get('/metrics');
    expect(res.status).toBe(200);
    text = res.text;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('carries host, pool, business, security, build and readiness metrics', () => {
    for (const name of [
      'bastion_host_cpu_usage_ratio',
      'bastion_host_memory_usage_ratio',
      'bastion_host_memory_total_bytes',
      'bastion_host_disk_free_bytes{',
      'bastion_host_load_average{',
      'bastion_db_pool_connections{state="in_use"}',
      'bastion_ready 1',
      'bastion_build_info{version=',
      'bastion_logins_total{outcome="success"}',
      'bastion_logins_total{outcome="wrong_password"} 1',
      'bastion_trades_ingested_total',
      'bastion_price_updates_total',
      'bastion_security_events_total',
      'bastion_alert_evaluations_total',
      'http_request_duration_seconds_bucket{le="0.00025"',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('follows the exposition conventions (own lint; promtool check metrics when installed)', () => {
    expect(lintExposition(text)).toEqual([]);
    const tool = promtool();
    if (!tool) {
      console.warn('promtool not installed (Debian package prometheus): only the built-in lint ran');
      return;
    }
    const run = spawnSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${run.stdout}${run.stderr}`.trim()).toBe('');
    expect(run.status).toBe(0);
  });

  it('the lint catches the usual mistakes', () => {
    expect(lintExposition('# HELP a_total x\n# TYPE a_total counter\na_total 1\n')).toEqual([]);
    expect(lintExposition('# TYPE req counter\nreq 1\n')).toEqual(
      expect.arrayContaining([expect.stringContaining('no HELP'), expect.stringContaining('_total')]),
    );
    expect(lintExposition('# HELP x_ms y\n# TYPE x_ms gauge\nx_ms 1\n')).toEqual([
      expect.stringContaining('base unit'),
    ]);
    expect(lintExposition('# HELP Bad-Name y\n# TYPE Bad-Name gauge\nBad-Name 1\n')).toEqual(
      expect.arrayContaining([expect.stringContaining('invalid metric name')]),
    );
    expect(
      lintExposition(
        '# HELP h_seconds y\n# TYPE h_seconds histogram\nh_seconds_bucket{le="1"} 2\nh_seconds_bucket{le="0.5"} 1\nh_seconds_sum 1\nh_seconds_count 2\n',
      ),
    ).toEqual(expect.arrayContaining([expect.stringContaining('+Inf'), expect.stringContaining('ascending')]));
    expect(lintExposition('# HELP g y\n# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n')).toEqual([
      expect.stringContaining('duplicate'),
    ]);
  });

  it('does not rate-limit scrapes nor count them as API traffic', async () => {
    const limited = await startTestApp({ RATE_LIMIT_IP_PER_MINUTE: '3', MONITORING_INTERVAL_SECONDS: '3600' });
    try {
      for (let i = 0; i < 6; i++) expect((await limited.http.get('/metrics')).status).toBe(200);
      expect((await limited.http.get('/metrics')).text).not.toContain('route="/metrics"');
    } finally {
      await limited.close();
    }
  });
});
