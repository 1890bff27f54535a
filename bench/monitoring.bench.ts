/**
 * Monitoring costs, with the whole app booted in process through createApp (what main.ts serves)
 * on PostgreSQL and driven over real HTTP on 127.0.0.1:
 *  1. collection cost per sample: CPU time (user + system, process.cpuUsage) of SAMPLES calls of
 *     MetricsService.collect() (host reading, DB pool, readiness ping, storing the row, gauges,
 *     the event), and of the host reading alone;
 *  2. GET /metrics render time with every series present (after a sample, logins, trades and
 *     requests to many routes): RENDERS sequential scrapes, latency percentiles, and its size;
 *  3. GET /api/v1/monitoring/dashboard latency: READS sequential requests after a warm-up.
 *
 *   npm run bench:monitoring
 *   DATABASE_URL=postgres://user@host:5432/postgres npm run bench:monitoring   # server to use
 *
 * Settings (environment): DATABASE_URL, SAMPLES (300), RENDERS (300), READS (1000).
 * It creates its own database (dropped at the end). Benchmarks print figures; they never fail on time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createApp } from '../src/app.setup';
import { buildConfig, parseEnv } from '../src/common/config/app-config';
import { HostCollector } from '../src/monitoring/metrics/host-collector';
import { MetricsService } from '../src/monitoring/metrics/metrics.service';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SAMPLES = Number(process.env.SAMPLES ?? 300);
const RENDERS = Number(process.env.RENDERS ?? 300);
const READS = Number(process.env.READS ?? 1000);
const ADMIN = { email: 'bench@example.com', password: 'Bench-Password-123456' };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function latencyLine(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `${label.padEnd(36)} p50 ${percentile(s, 50).toFixed(2).padStart(7)} ms   p95 ${percentile(s, 95).toFixed(2).padStart(7)} ms   p99 ${percentile(s, 99).toFixed(2).padStart(7)} ms   max ${s[s.length - 1].toFixed(2).padStart(7)} ms   (n=${ms.length})`;
}

async function withServer<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

async function main(): Promise<void> {
  const dbName = `bastion_bench_monitoring_${process.pid}`;
  await withServer((c) => c.query(`CREATE DATABASE ${dbName}`));
  const dbUrl = new URL(SERVER_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-bench-monitoring-'));
  const env = parseEnv({
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATA_DIR: dataDir,
    DATABASE_URL: dbUrl.toString(),
    JWT_SECRET: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000000',
    RATE_LIMIT_USER_PER_MINUTE: '100000000',
    MONITORING_INTERVAL_SECONDS: '3600',
  });
  const config = buildConfig(env, {
    jwtSecret: Buffer.from(env.JWT_SECRET!, 'base64url'),
    masterKey: Buffer.from(env.MASTER_KEY!, 'base64url'),
    source: 'environment',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const call = (
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method,
          agent,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  try {
    console.log(
      `monitoring bench: ${availableParallelism()} CPUs, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (a shared machine: figures vary with other work)`,
    );
    const login = await call('POST', '/api/v1/auth/login', ADMIN);
    const token = (JSON.parse(login.text) as { accessToken: string }).accessToken;
    // Traffic that creates series: logins by outcome, a failed one, a portfolio with trades, 404s.
    await call('POST', '/api/v1/auth/login', { email: ADMIN.email, password: 'wrong-password-000' });
    const portfolio = await call('POST', '/api/v1/portfolios', { name: 'Bench', baseCurrency: 'USD' }, token);
    const pid = (JSON.parse(portfolio.text) as { id?: string }).id;
    if (pid) {
      await call(
        'POST',
        `/api/v1/portfolios/${pid}/trades`,
        {
          symbol: 'AAPL',
          side: 'buy',
          quantity: '1',
          price: '100',
          executedAt: new Date().toISOString(),
        },
        token,
      );
    }
    for (const path of [
      '/api/v1/me',
      '/api/v1/roles',
      '/api/v1/users',
      '/api/v1/nope',
      '/api/v1/monitoring/alert-rules',
    ]) {
      await call('GET', path, undefined, token);
    }

    // 1. Collection cost.
    const metrics = app.get(MetricsService);
    await metrics.collect();
    let wall = performance.now();
    let cpu = process.cpuUsage();
    for (let i = 0; i < SAMPLES; i++) await metrics.collect(new Date(Date.now() + i));
    const collectCpu = cpuMs(process.cpuUsage(cpu)) / SAMPLES;
    const collectWall = (performance.now() - wall) / SAMPLES;
    const host = new HostCollector(dataDir);
    host.collect();
    cpu = process.cpuUsage();
    wall = performance.now();
    for (let i = 0; i < SAMPLES; i++) host.collect(Date.now() + i * 10_000);
    const hostCpu = cpuMs(process.cpuUsage(cpu)) / SAMPLES;
    const hostWall = (performance.now() - wall) / SAMPLES;
    host.stop();
    const values = Object.keys(metrics.latest()!.values).length;
    console.log(
      `collect (full sample, ${values} series)     CPU ${collectCpu.toFixed(3)} ms/sample   wall ${collectWall.toFixed(3)} ms/sample   (n=${SAMPLES})`,
    );
    console.log(
      `collect (host reading only)             CPU ${hostCpu.toFixed(3)} ms/sample   wall ${hostWall.toFixed(3)} ms/sample   (n=${SAMPLES})`,
    );

    // 2. /metrics render.
    const scrape = await call('GET', '/metrics');
    const lines = scrape.text.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const renders: number[] = [];
    for (let i = 0; i < RENDERS; i++) {
      const start = performance.now();
      const res = await call('GET', '/metrics');
      renders.push(performance.now() - start);
      if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    }
    console.log(latencyLine(`GET /metrics (${lines} series, ${(scrape.text.length / 1024).toFixed(0)} KiB)`, renders));

    // 3. Dashboard latency.
    for (let i = 0; i < 50; i++) await call('GET', '/api/v1/monitoring/dashboard', undefined, token);
    const reads: number[] = [];
    for (let i = 0; i < READS; i++) {
      const start = performance.now();
      const res = await call('GET', '/api/v1/monitoring/dashboard', undefined, token);
      reads.push(performance.now() - start);
      if (res.status !== 200) throw new Error(`dashboard answered ${res.status}`);
    }
    console.log(latencyLine('GET /api/v1/monitoring/dashboard', reads));
  } finally {
    agent.destroy();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    await withServer((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
