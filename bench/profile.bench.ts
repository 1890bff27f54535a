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
 *   BENCH_PROFILE_TOOL=perf npm run bench:profile                  # on-CPU, with Linux perf
 *
 * BENCH_PROFILE_TOOL=perf samples the server with `perf record` (cpu-clock, every thread) over the
 * measured run only, the server started with `--perf-basic-prof`, and prints the CPU per request
 * by where it ran (JIT-compiled JavaScript, the V8 runtime's inline caches and lookups, builtins,
 * garbage collection, the kernel...) and the top symbols: V8's own profiler samples wall-clock
 * time, so it charges a thread's waits inside system calls to them (bench/support/perf-profile.ts).
 * It needs Debian's linux-perf and kernel.perf_event_paranoid <= 1 (or root).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';
import { formatSummary, summarise } from './support/cpu-profile';
import { Client } from 'pg';
import { load, type LoadSettings, loadSettingsFromEnv } from './support/load';
import {
  assertPerfUsable,
  formatPerfSummary,
  removePerfFiles,
  startPerf,
  stopPerf,
  summarisePerf,
} from './support/perf-profile';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PATH = process.env.BENCH_PROFILE_PATH ?? '/api/v1/me';
const TOP = intFromEnv('BENCH_PROFILE_TOP', 10);
/** BENCH_PROFILE_PATH=/api/v1/auth/login profiles sign-ins (POST, the profiled user's credentials) instead of a read. */
const LOGIN = PATH.endsWith('/auth/login');
/** `v8` (default): node --cpu-prof; `perf`: Linux perf, on-CPU samples of every thread. */
const TOOL = process.env.BENCH_PROFILE_TOOL ?? 'v8';

async function main(): Promise<void> {
  if (TOOL !== 'v8' && TOOL !== 'perf') throw new Error(`BENCH_PROFILE_TOOL must be v8 or perf, got ${TOOL}`);
  if (TOOL === 'perf') assertPerfUsable();
  ensureBuilt();
  const dir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'bastion-profile-'));
  const db = await openBenchDatabase('profile', SERVER_URL);
  try {
    const server = await startBastion({
      dbUrl: db.url,
      dataDir: db.dataDir,
      onSpawn: db.track,
      nodeArgs: TOOL === 'perf' ? ['--perf-basic-prof'] : ['--cpu-prof', `--cpu-prof-dir=${dir}`],
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
    const settings: LoadSettings = loadSettingsFromEnv();
    const request = LOGIN
      ? {
          url: `${server.url}${PATH}`,
          method: 'POST' as const,
          perClient: () => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) }),
        }
      : { url: `${server.url}${PATH}`, method: 'GET' as const, perClient: () => ({ headers: auth }) };

    if (TOOL === 'perf') {
      // perf covers the measured run only: the warm-up runs before the recording starts.
      if (settings.warmup > 0) await load({ ...settings, duration: settings.warmup, warmup: 0 }, request);
      const pid = server.pid;
      if (pid === undefined) throw new Error('the server has no pid');
      const file = join(dir, 'perf.data');
      const recording = startPerf(pid, file);
      const result = await load({ ...settings, warmup: 0 }, request, () => server.cpuMs());
      await stopPerf(recording);
      await server.stop();
      const requests = result.ok + result.failed;
      console.log(
        `\n${LOGIN ? 'POST' : 'GET'} ${PATH}: ${result.rps.toFixed(1)} rps, p99 ${result.p99} ms, ${result.failed} failed, ` +
          `${result.cpuUsPerRequest?.toFixed(0) ?? '?'} µs of server CPU per request (/proc, under perf); ` +
          `load average (1 min) before ${loadBefore.toFixed(2)}, after ${loadavg()[0].toFixed(2)}`,
      );
      console.log(formatPerfSummary(summarisePerf(file, requests, Math.max(TOP, 15)), requests));
      removePerfFiles(file, pid);
      return;
    }

    const result = await load(settings, request);
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
