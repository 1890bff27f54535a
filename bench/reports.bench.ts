import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';

/**
 * `npm run bench:reports`: a CSV of BENCH_REPORT_ROWS trades (default 1,000,000) produced by a
 * report run (`trades` template, streamed in keyset pages) against PostgreSQL, its time and the
 * server's peak RSS, beside `psql \copy (SELECT …) TO` of the same rows as the lower bound.
 * Prints the ratio psql time / report time (target ≥ 0.3) and RSS before and at peak.
 */
const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = intFromEnv('BENCH_REPORT_ROWS', 1_000_000);

function pidOnPort(port: string): number {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString();
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process listens on ${port}`);
  return Number(m[1]);
}

function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

async function main(): Promise<void> {
  ensureBuilt();
  const db = await openBenchDatabase('reports', SERVER);
  try {
    const server = await startBastion({
      dbUrl: db.url,
      dataDir: db.dataDir,
      onSpawn: (s) => db.track(s),
      env: { REPORTS_POLL_INTERVAL_MS: '200' },
    });
    const auth = { Authorization: '' };
    const tokens = await call<{ accessToken: string }>('POST', `${server.url}/api/v1/auth/login`, 200, { body: ADMIN });
    auth.Authorization = `Bearer ${tokens.accessToken}`;
    const portfolio = await call<{ id: string }>('POST', `${server.url}/api/v1/portfolios`, 201, {
      headers: auth,
      body: { name: 'Bench', baseCurrency: 'USD' },
    });

    // The rows, written directly (ingestion is bench:trading's subject).
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(`INSERT INTO instruments (symbol, currency) SELECT 'S' || i, 'USD' FROM generate_series(0, 49) i`);
    const t0 = Date.now();
    await pg.query(
      `INSERT INTO trades (portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id)
       SELECT $1, i, 'S' || (i % 50), CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, (i % 100) + 1,
              round((100 + (i % 997) / 10.0)::numeric, 2), 0.5, timestamptz '2026-01-01' + i * interval '1 second', 'x' || i
         FROM generate_series(1, $2) i`,
      [portfolio.id, ROWS],
    );
    await pg.query('ANALYZE trades');
    console.log(`seeded ${ROWS.toLocaleString()} trades in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const asOf = new Date(Date.now() + 1000).toISOString();
    await new Promise((r) => setTimeout(r, 1100));

    const pid = pidOnPort(new URL(server.url).port);
    const before = memoryKb(pid);
    const started = Date.now();
    const run = await call<{ id: string }>('POST', `${server.url}/api/v1/reports`, 202, {
      headers: auth,
      body: {
        template: 'trades',
        format: 'csv',
        parameters: { portfolioId: portfolio.id, from: '2025-12-31T00:00:00Z', to: '2030-01-01T00:00:00Z', asOf },
      },
    });
    let peakRss = before.rss;
    let status: { status: string; size: number; rowCount: number; error: string | null };
    for (;;) {
      peakRss = Math.max(peakRss, memoryKb(pid).rss);
      status = await call('GET', `${server.url}/api/v1/reports/${run.id}`, 200, { headers: auth });
      if (status.status === 'completed' || status.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const reportMs = Date.now() - started;
    if (status.status !== 'completed') throw new Error(`report failed: ${status.error}`);
    const after = memoryKb(pid);

    const out = join(db.dataDir, 'psql.csv');
    const copyStarted = Date.now();
    const copy = spawnSync(
      'psql',
      [
        db.url,
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        `\\copy (SELECT id, portfolio_id, executed_at, symbol, side, trim_scale(quantity), trim_scale(price), trim_scale(fees), external_id FROM trades WHERE portfolio_id = '${portfolio.id}' ORDER BY executed_at, portfolio_id, seq) TO '${out}' WITH (FORMAT csv, HEADER)`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const copyMs = Date.now() - copyStarted;
    if (copy.status !== 0) throw new Error('psql \\copy failed');
    await pg.end();

    console.log(`PostgreSQL ${db.pgVersion}, ${ROWS.toLocaleString()} trades`);
    console.log(
      `report CSV : ${(reportMs / 1000).toFixed(2)} s, ${(status.size / 1e6).toFixed(1)} MB, ${status.rowCount.toLocaleString()} rows`,
    );
    console.log(`psql \\copy : ${(copyMs / 1000).toFixed(2)} s, ${(statSync(out).size / 1e6).toFixed(1)} MB`);
    console.log(`ratio (psql time / report time): ${(copyMs / reportMs).toFixed(2)}  (target ≥ 0.3)`);
    console.log(
      `server RSS: ${(before.rss / 1024).toFixed(0)} MB before, peak ${(peakRss / 1024).toFixed(0)} MB while running (sampled every 100 ms), ${(after.rss / 1024).toFixed(0)} MB after; VmHWM ${(after.hwm / 1024).toFixed(0)} MB`,
    );
  } finally {
    await db.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
