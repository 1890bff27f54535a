/**
 * Logins per second, authenticated GET /api/v1/me and GET /api/v1/portfolios per second (with p99
 * latency) for the built app in cluster mode, beside a minimal Express + jose + pg server doing the
 * same token check and one query (bench/support/baseline-server.ts), on the same fresh PostgreSQL
 * database, in one run. The two servers run one after the other, never together. Each ratio is
 * printed against its target (issue 15): /me >= 0.8x the baseline, portfolios >= 0.7x, login >= 0.8x.
 *
 * Also printed: the resident memory (RSS) of an idle instance in embedded mode, in PostgreSQL
 * mode, and in cluster mode with Redis (REDIS_URL, default redis://127.0.0.1:6379; skipped when
 * unreachable), each measured BENCH_IDLE_SECONDS (3) after it answered ready, target < 150 MB (the
 * embedded and cluster ones start without a bootstrap admin, as a node joining a cluster would, so
 * no password check loads zxcvbn's dictionaries; the PostgreSQL-mode one is this run's, which
 * created its admin); and
 * what passport adds to a bearer-token check (bench/support/passport-cost.ts).
 *
 * Beside rps, each row shows the server process's CPU time (user + system, from /proc) per request
 * over the measured run: rps moves with whatever else the 2 cores are doing, CPU per request much
 * less, so it is the figure to compare between runs.
 *
 *   npm run bench:auth
 *   BENCH_DB=embedded npm run bench:auth     # adds the rows of an embedded-engine instance
 *   DATABASE_URL=postgres://... BENCH_CONNECTIONS=20 BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_USERS=20 npm run bench:auth
 *
 * DATABASE_URL names the server (a database `bastion_bench_auth_<pid>` is created on it and dropped
 * at the end); the load generator (autocannon) runs in this process, so it shares the CPUs with the
 * server under test, equally for both.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { load, type LoadResult, type LoadSettings, loadSettingsFromEnv } from './support/load';
import { ADMIN, call, ROOT, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';
import { measurePassportCost, type PassportCost } from './support/passport-cost';
import { freePort, type ServerProcess, startServer } from './support/server-process';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** BENCH_DB=embedded adds the same three rows for an instance on the embedded engine. */
const EMBEDDED = process.env.BENCH_DB === 'embedded';

const SETTINGS: LoadSettings = loadSettingsFromEnv();
/** One user per connection by default, so concurrent logins do not queue on one credential row lock. */
const USER_COUNT = Math.max(1, intFromEnv('BENCH_USERS', SETTINGS.connections));
/** Bastion's defaults (ARGON2_MEMORY_KIB, ARGON2_TIME_COST, ARGON2_PARALLELISM): OWASP's argon2id. */
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const IDLE_SECONDS = intFromEnv('BENCH_IDLE_SECONDS', 3);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Issue 15's targets: Bastion rps / baseline rps. */
const TARGETS: Record<string, number> = { login: 0.8, 'GET /me': 0.8, 'GET /portfolios': 0.7 };
const RSS_TARGET_MB = 150;

type Rows = { login: LoadResult; me: LoadResult; portfolios: LoadResult };

interface BenchUser {
  email: string;
  password: string;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Median time of one argon2id verification at Bastion's parameters, measured in this process. */
async function argon2VerifyMs(): Promise<number> {
  const hashed = await argon2Hash('Quiet-Orchard-0-Lantern', { ...ARGON2, algorithm: 2 });
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    await argon2Verify(hashed, 'Quiet-Orchard-0-Lantern');
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const jsonBody = (user: BenchUser): { headers: Record<string, string>; body: string } => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: user.email, password: user.password }),
});

const bearerHeader = (token: string): { headers: Record<string, string> } => ({
  headers: { authorization: `Bearer ${token}` },
});

// ---------------------------------------------------------------------------------------------
// The two servers

async function benchBastion(
  dbUrl: string | undefined,
  dataDir: string,
  users: BenchUser[],
  track: (s: ServerProcess) => void,
): Promise<Rows & { idleRssMb?: number; loadedRssMb?: number }> {
  const server = await startBastion({ dbUrl, dataDir, onSpawn: track });
  try {
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleRssMb = server.rssMb();
    const api = `${server.url}/api/v1`;
    const admin = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: ADMIN });
    for (const [i, user] of users.entries()) {
      await call('POST', `${api}/users`, 201, {
        headers: { authorization: `Bearer ${admin.accessToken}` },
        body: { ...user, firstName: 'Bench', lastName: `User${i}`, roles: ['trader'] },
      });
    }
    const tokens: string[] = [];
    for (const user of users) {
      tokens.push((await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: user })).accessToken);
    }
    const me = await call<{ email: string; permissions: string[] }>('GET', `${api}/me`, 200, {
      headers: { authorization: `Bearer ${tokens[0]}` },
    });
    if (me.email !== users[0].email) throw new Error(`Bastion /me answered for ${me.email}`);
    // One portfolio per user, so the list route returns a row (the baseline reads the same rows).
    for (const [i, token] of tokens.entries()) {
      await call('POST', `${api}/portfolios`, 201, {
        headers: { authorization: `Bearer ${token}` },
        body: { name: `Bench ${i}`, baseCurrency: 'USD' },
      });
    }

    const cpu = (): number | undefined => server.cpuMs();
    const loginResult = await load(
      SETTINGS,
      {
        url: `${api}/auth/login`,
        method: 'POST',
        perClient: (i) => jsonBody(users[i % users.length]),
      },
      cpu,
    );
    const meResult = await load(
      SETTINGS,
      {
        url: `${api}/me`,
        method: 'GET',
        perClient: (i) => bearerHeader(tokens[i % tokens.length]),
      },
      cpu,
    );
    const portfoliosResult = await load(
      SETTINGS,
      {
        url: `${api}/portfolios`,
        method: 'GET',
        perClient: (i) => bearerHeader(tokens[i % tokens.length]),
      },
      cpu,
    );
    return { login: loginResult, me: meResult, portfolios: portfoliosResult, idleRssMb, loadedRssMb: server.rssMb() };
  } finally {
    await server.stop();
  }
}

/** RSS of an instance that has done nothing but start and answer one readiness probe. */
async function idleRss(
  label: string,
  dbUrl: string | undefined,
  env: Record<string, string>,
  track: (s: ServerProcess) => void,
): Promise<{ label: string; rssMb?: number; skipped?: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-bench-idle-'));
  try {
    // No bootstrap admin: a node joining a cluster checks no password at start-up.
    const server = await startBastion({
      dbUrl,
      dataDir,
      onSpawn: track,
      env,
      timeoutMs: 180_000,
      bootstrapAdmin: false,
    });
    try {
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      return { label, rssMb: server.rssMb() };
    } finally {
      await server.stop();
    }
  } catch (err) {
    const lines = (err as Error).message.split('\n').filter((l) => l.trim() !== '');
    return { label, skipped: `${lines[0]} ${lines[lines.length - 1] ?? ''}`.slice(0, 300) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function redisReachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

async function benchBaseline(dbUrl: string, users: BenchUser[], track: (s: ServerProcess) => void): Promise<Rows> {
  const port = await freePort();
  const server = await startServer({
    name: 'baseline',
    cwd: ROOT,
    args: ['-r', '@swc-node/register', 'bench/support/baseline-server.ts'],
    port,
    readyPath: '/health',
    onSpawn: track,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: dbUrl,
      BASELINE_POOL_SIZE: '10', // Bastion's DATABASE_POOL_SIZE default
      BASELINE_JWT_SECRET: randomBytes(32).toString('base64'),
    },
  });
  try {
    const tokens: string[] = [];
    for (const user of users) {
      tokens.push(
        (await call<{ accessToken: string }>('POST', `${server.url}/login`, 200, { body: user })).accessToken,
      );
    }
    const me = await call<{ email: string }>('GET', `${server.url}/me`, 200, {
      headers: { authorization: `Bearer ${tokens[0]}` },
    });
    if (me.email !== users[0].email) throw new Error(`baseline /me answered for ${me.email}`);

    const cpu = (): number | undefined => server.cpuMs();
    const loginResult = await load(
      SETTINGS,
      {
        url: `${server.url}/login`,
        method: 'POST',
        perClient: (i) => jsonBody(users[i % users.length]),
      },
      cpu,
    );
    const meResult = await load(
      SETTINGS,
      {
        url: `${server.url}/me`,
        method: 'GET',
        perClient: (i) => bearerHeader(tokens[i % tokens.length]),
      },
      cpu,
    );
    const portfoliosResult = await load(
      SETTINGS,
      {
        url: `${server.url}/portfolios`,
        method: 'GET',
        perClient: (i) => bearerHeader(tokens[i % tokens.length]),
      },
      cpu,
    );
    return { login: loginResult, me: meResult, portfolios: portfoliosResult };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function printTable(
  rows: { label: string; bastion: LoadResult; baseline: LoadResult }[],
  context: { argon2Ms: number; cpus: number },
  explain = true,
): void {
  const head = [
    '',
    'Bastion rps',
    'Bastion p99 ms',
    'baseline rps',
    'baseline p99 ms',
    'ratio (baseline/Bastion rps)',
    'Bastion/baseline',
    'target',
    'server CPU µs/req Bastion',
    'baseline',
  ];
  const widths = [16, 12, 15, 13, 16, 29, 17, 16, 26, 9];
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
  console.log(line(head));
  for (const row of rows) {
    console.log(
      line([
        row.label,
        row.bastion.rps.toFixed(1),
        row.bastion.p99.toFixed(0),
        row.baseline.rps.toFixed(1),
        row.baseline.p99.toFixed(0),
        row.bastion.rps > 0 ? `${(row.baseline.rps / row.bastion.rps).toFixed(2)}x` : 'n/a',
        row.baseline.rps > 0 ? `${(row.bastion.rps / row.baseline.rps).toFixed(2)}x` : 'n/a',
        TARGETS[row.label] === undefined
          ? ''
          : `>= ${TARGETS[row.label].toFixed(1)}x ${row.bastion.rps >= TARGETS[row.label] * row.baseline.rps ? 'met' : 'NOT met'}`,
        row.bastion.cpuUsPerRequest?.toFixed(0) ?? 'n/a',
        row.baseline.cpuUsPerRequest?.toFixed(0) ?? 'n/a',
      ]),
    );
  }
  for (const row of rows) {
    for (const [who, r] of [
      ['Bastion', row.bastion],
      ['baseline', row.baseline],
    ] as const) {
      if (r.failed > 0) {
        console.log(
          `WARNING ${who} ${row.label}: ${r.failed} failed requests, status codes ${JSON.stringify(r.statusCodes)}`,
        );
      }
    }
  }
  if (!explain) return;
  const ceiling = (context.cpus * 1000) / context.argon2Ms;
  console.log(
    `login is bounded by argon2id (m=${ARGON2.memoryCost} KiB, t=${ARGON2.timeCost}, p=${ARGON2.parallelism}): ` +
      `one verify takes ${context.argon2Ms.toFixed(1)} ms here, so ${context.cpus} CPUs allow at most ~${ceiling.toFixed(0)} logins/s ` +
      'for any server, before the load generator takes its share.',
  );
  console.log(
    'Bastion /me does more than the baseline: session + user + profile + groups + group permissions + MFA state in one ' +
      'query (the guard, which /me reuses), plus request id, a log line, security headers, per-IP and per-user rate limits, ' +
      'IP rules, metrics and API statistics, and the problem+json pipeline; GET /portfolios adds its visibility-rule query ' +
      "to the guard's. Bastion login also locks the credential row and writes session, activity and a hash-chained " +
      'audit entry in one transaction. The ratio is the cost of that pipeline.',
  );
}

function printPassport(cost: PassportCost, meRps: number): void {
  const extra = cost.passportUs - cost.directUs;
  // The event loop is one thread: at the measured rate, each /me had at most 1e6/rps µs of it.
  const perRequestUs = meRps > 0 ? 1e6 / meRps : Number.NaN;
  console.log(
    `passport: a bearer-token check through passport-jwt takes ${cost.passportUs.toFixed(1)} µs, jsonwebtoken alone ` +
      `${cost.directUs.toFixed(1)} µs (best of 3 × ${cost.iterations}): passport adds ${extra.toFixed(1)} µs, ` +
      `${((extra / perRequestUs) * 100).toFixed(1)}% of the ${perRequestUs.toFixed(0)} µs one GET /me took at ${meRps.toFixed(0)} rps ` +
      `(${extra / perRequestUs > 0.05 ? 'above' : 'within'} the 5% budget)`,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureBuilt();
  const argon2Ms = await argon2VerifyMs();
  const passport = await measurePassportCost();
  const cpus = availableParallelism();

  const db = await openBenchDatabase('auth', SERVER_URL);
  const { pgVersion, dataDir } = db;
  const dbUrl = db.url;
  const cleanup = db.cleanup;

  try {
    const users: BenchUser[] = Array.from({ length: USER_COUNT }, (_, i) => ({
      email: `bench-user-${i}@example.com`,
      password: `Quiet-Orchard-${i}-Lantern`,
    }));
    const loadBefore = loadavg();
    const t0 = performance.now();
    const bastion = await benchBastion(dbUrl, dataDir, users, db.track);
    const baseline = await benchBaseline(dbUrl, users, db.track);
    // BENCH_DB=embedded: the same rows for an instance on the embedded engine (its own data directory).
    const embeddedDir = EMBEDDED ? mkdtempSync(join(tmpdir(), 'bastion-bench-auth-embedded-')) : undefined;
    const embedded = embeddedDir
      ? await benchBastion(undefined, embeddedDir, users, db.track).finally(() =>
          rmSync(embeddedDir, { recursive: true, force: true }),
        )
      : undefined;
    const loadAfter = loadavg();

    console.log(
      `\nauth throughput, Node ${process.version}, ${cpus} CPUs, PostgreSQL ${pgVersion}, ` +
        `${SETTINGS.connections} connections, ${SETTINGS.duration} s measured after ${SETTINGS.warmup} s warm-up per row, ` +
        `${USER_COUNT} users, pool 10 each`,
    );
    console.log(
      `load average (1 min) before ${loadBefore[0].toFixed(2)}, after ${loadAfter[0].toFixed(2)}; ` +
        `servers measured in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    printTable(
      [
        { label: 'login', bastion: bastion.login, baseline: baseline.login },
        { label: 'GET /me', bastion: bastion.me, baseline: baseline.me },
        { label: 'GET /portfolios', bastion: bastion.portfolios, baseline: baseline.portfolios },
      ],
      { argon2Ms, cpus },
    );
    if (embedded) {
      console.log(
        '\nthe same on the embedded engine (PGlite in a worker thread, one connection), beside the same baseline:',
      );
      printTable(
        [
          { label: 'login', bastion: embedded.login, baseline: baseline.login },
          { label: 'GET /me', bastion: embedded.me, baseline: baseline.me },
          { label: 'GET /portfolios', bastion: embedded.portfolios, baseline: baseline.portfolios },
        ],
        { argon2Ms, cpus },
        false,
      );
    }
    printPassport(passport, bastion.me.rps);
    /** A database of its own: this run's holds key material wrapped by the first instance's MASTER_KEY. */
    const idleClusterRss = async (): Promise<{ label: string; rssMb?: number; skipped?: string }> => {
      const own = await openBenchDatabase('auth_idle', SERVER_URL);
      try {
        return await idleRss('cluster mode (PostgreSQL + Redis)', own.url, { REDIS_URL }, own.track);
      } finally {
        await own.cleanup();
      }
    };
    const idle = [
      { label: "PostgreSQL mode (this run's instance)", rssMb: bastion.idleRssMb },
      await idleRss('embedded mode', undefined, {}, db.track),
      (await redisReachable(REDIS_URL))
        ? await idleClusterRss()
        : { label: 'cluster mode (PostgreSQL + Redis)', skipped: `Redis unreachable at ${REDIS_URL}` },
    ];
    console.log(`resident memory (RSS), ${IDLE_SECONDS} s after ready, target < ${RSS_TARGET_MB} MB:`);
    for (const r of idle as { label: string; rssMb?: number; skipped?: string }[]) {
      console.log(
        `  idle, ${r.label.padEnd(38)} ${
          r.rssMb === undefined
            ? `n/a (${r.skipped ?? 'not measured'})`
            : `${r.rssMb.toFixed(0).padStart(4)} MB ${r.rssMb < RSS_TARGET_MB ? 'met' : 'NOT met'}`
        }`,
      );
    }
    if (bastion.loadedRssMb !== undefined) {
      console.log(`  after the load above, PostgreSQL mode          ${bastion.loadedRssMb.toFixed(0).padStart(4)} MB`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
