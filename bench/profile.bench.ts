/**
 * Where the CPU goes on an authenticated read: starts the built app under `node --cpu-prof`,
 * drives GET /api/v1/me (or BENCH_PROFILE_PATH, e.g. /api/v1/portfolios) with autocannon, stops
 * it so V8 writes the profile, and prints the top self-time functions and packages, with the CPU
 * spent per request. The .cpuprofile stays in BENCH_PROFILE_DIR (default: a temporary directory)
 * for Chrome DevTools or speedscope.
 *
 *   npm run bench:profile
 *   BENCH_PROFILE_PATH=/api/v1/portfolios BENCH_DURATION=10 npm run bench:profile
 *   BENCH_PROFILE_PATH=/api/v1/auth/login npm run bench:profile   # sign-ins (POST), one user
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';
import { formatSummary, summarise } from './support/cpu-profile';
import { Client } from 'pg';
import { load } from './support/load';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PATH = process.env.BENCH_PROFILE_PATH ?? '/api/v1/me';
const TOP = intFromEnv('BENCH_PROFILE_TOP', 10);
/** BENCH_PROFILE_PATH=/api/v1/auth/login profiles sign-ins (POST, the profiled user's credentials) instead of a read. */
const LOGIN = PATH.endsWith('/auth/login');

async function main(): Promise<void> {
  ensureBuilt();
  const dir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'bastion-profile-'));
  const db = await openBenchDatabase('profile', SERVER_URL);
  try {
    const server = await startBastion({
      dbUrl: db.url,
      dataDir: db.dataDir,
      onSpawn: db.track,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
    });
    const api = `${server.url}/api/v1`;
    const admin = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: ADMIN });
    const user = { email: 'profile-trader@example.com', password: 'Quiet-Orchard-7-Lantern' };
    await call('POST', `${api}/users`, 201, {
      headers: { authorization: `Bearer ${admin.accessToken}` },
      body: { ...user, firstName: 'Profile', lastName: 'Trader', roles: ['trader'] },
    });
    const { accessToken } = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: user });
    const auth = { authorization: `Bearer ${accessToken}` };
    if (PATH.startsWith('/api/v1/portfolios')) {
      await call('POST', `${api}/portfolios`, 201, { headers: auth, body: { name: 'Profiled', baseCurrency: 'USD' } });
    }
    if (!LOGIN) await call('GET', `${server.url}${PATH}`, 200, { headers: auth });
    const xactsBefore = await transactions(db.url);
    const loadBefore = loadavg()[0];
    const loadStart = performance.now();
    const result = await load(
      {
        connections: intFromEnv('BENCH_CONNECTIONS', 20),
        duration: intFromEnv('BENCH_DURATION', 10),
        warmup: intFromEnv('BENCH_WARMUP', 2),
      },
      LOGIN
        ? {
            url: `${server.url}${PATH}`,
            method: 'POST',
            perClient: () => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) }),
          }
        : { url: `${server.url}${PATH}`, method: 'GET', perClient: () => ({ headers: auth }) },
    );
    const xacts = (await transactions(db.url)) - xactsBefore - 1; // the count's own query is one
    await server.stop();
    // The profile ends when the server exits: its last part is the load (warm-up included) and the stop.
    const windowMs = performance.now() - loadStart;
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .sort()
      .pop();
    if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
    console.log(
      `\n${LOGIN ? 'POST' : 'GET'} ${PATH}: ${result.rps.toFixed(1)} rps, p99 ${result.p99} ms, ${result.failed} failed; ` +
        `load average (1 min) before ${loadBefore.toFixed(2)}, after ${loadavg()[0].toFixed(2)}`,
    );
    console.log(`profile: ${file}`);
    console.log(
      `database transactions per request (pg_stat_database, warm-up included): ${(xacts / Math.max(1, result.ok + result.failed)).toFixed(2)}`,
    );
    // Requests of the measured part only; the window also holds the warm-up, so CPU per request is an upper bound.
    const requests = result.ok + result.failed;
    console.log(`samples of the last ${(windowMs / 1000).toFixed(1)} s (warm-up, load, stop); start-up left out`);
    console.log(formatSummary(summarise(JSON.parse(readFileSync(file, 'utf8')), TOP, windowMs), requests));
  } finally {
    await db.cleanup();
  }
}

/** Committed and rolled-back transactions of the database so far (a statement outside BEGIN is one). */
async function transactions(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
