/**
 * Logins per second and authenticated GET /api/v1/me per second (with p99 latency) for the built
 * app in cluster mode, beside a minimal Express + jose + pg server doing the same token check and a
 * one-row query (bench/support/baseline-server.ts), on the same fresh PostgreSQL database, in one run.
 * The two servers run one after the other, never together.
 *
 *   npm run bench:auth
 *   DATABASE_URL=postgres://... BENCH_CONNECTIONS=20 BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_USERS=20 npm run bench:auth
 *
 * DATABASE_URL names the server (a database `bastion_bench_auth_<pid>` is created on it and dropped
 * at the end); the load generator (autocannon) runs in this process, so it shares the CPUs with the
 * server under test, equally for both.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { Client } from 'pg';
import { load, type LoadResult, type LoadSettings } from './support/load';
import { ADMIN, ROOT, startBastion } from './support/bastion';
import { freePort, type ServerProcess, startServer } from './support/server-process';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

const SETTINGS: LoadSettings = {
  connections: intFromEnv('BENCH_CONNECTIONS', 20),
  duration: intFromEnv('BENCH_DURATION', 10),
  warmup: intFromEnv('BENCH_WARMUP', 2),
};
/** One user per connection by default, so concurrent logins do not queue on one credential row lock. */
const USER_COUNT = Math.max(1, intFromEnv('BENCH_USERS', SETTINGS.connections));
/** Bastion's defaults (ARGON2_MEMORY_KIB, ARGON2_TIME_COST, ARGON2_PARALLELISM): OWASP's argon2id. */
const ARGON2 = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

interface BenchUser {
  email: string;
  password: string;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the app when dist is missing or older than any file under src. */
function ensureBuilt(): void {
  const main = join(ROOT, 'dist/src/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  console.log('dist is missing or older than src: npm run build');
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.status ?? build.signal})`);
}

async function call<T>(
  method: 'GET' | 'POST',
  url: string,
  expected: number,
  options: { body?: unknown; token?: string } = {},
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  if (res.status !== expected)
    throw new Error(`${method} ${url} answered ${res.status}, expected ${expected}: ${text}`);
  return JSON.parse(text) as T;
}

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
  dbUrl: string,
  dataDir: string,
  users: BenchUser[],
  track: (s: ServerProcess) => void,
): Promise<{ login: LoadResult; me: LoadResult }> {
  const server = await startBastion({ dbUrl, dataDir, onSpawn: track });
  try {
    const api = `${server.url}/api/v1`;
    const admin = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: ADMIN });
    for (const [i, user] of users.entries()) {
      await call('POST', `${api}/users`, 201, {
        token: admin.accessToken,
        body: { ...user, firstName: 'Bench', lastName: `User${i}`, roles: ['trader'] },
      });
    }
    const tokens: string[] = [];
    for (const user of users) {
      tokens.push((await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: user })).accessToken);
    }
    const me = await call<{ email: string; permissions: string[] }>('GET', `${api}/me`, 200, { token: tokens[0] });
    if (me.email !== users[0].email) throw new Error(`Bastion /me answered for ${me.email}`);

    const loginResult = await load(SETTINGS, {
      url: `${api}/auth/login`,
      method: 'POST',
      perClient: (i) => jsonBody(users[i % users.length]),
    });
    const meResult = await load(SETTINGS, {
      url: `${api}/me`,
      method: 'GET',
      perClient: (i) => bearerHeader(tokens[i % tokens.length]),
    });
    return { login: loginResult, me: meResult };
  } finally {
    await server.stop();
  }
}

async function benchBaseline(
  dbUrl: string,
  users: BenchUser[],
  track: (s: ServerProcess) => void,
): Promise<{ login: LoadResult; me: LoadResult }> {
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
    const me = await call<{ email: string }>('GET', `${server.url}/me`, 200, { token: tokens[0] });
    if (me.email !== users[0].email) throw new Error(`baseline /me answered for ${me.email}`);

    const loginResult = await load(SETTINGS, {
      url: `${server.url}/login`,
      method: 'POST',
      perClient: (i) => jsonBody(users[i % users.length]),
    });
    const meResult = await load(SETTINGS, {
      url: `${server.url}/me`,
      method: 'GET',
      perClient: (i) => bearerHeader(tokens[i % tokens.length]),
    });
    return { login: loginResult, me: meResult };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function printTable(
  rows: { label: string; bastion: LoadResult; baseline: LoadResult }[],
  context: { argon2Ms: number; cpus: number },
): void {
  const head = ['', 'Bastion rps', 'Bastion p99 ms', 'baseline rps', 'baseline p99 ms', 'ratio (baseline/Bastion rps)'];
  const widths = [14, 12, 15, 13, 16, 29];
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
  const ceiling = (context.cpus * 1000) / context.argon2Ms;
  console.log(
    `login is bounded by argon2id (m=${ARGON2.memoryCost} KiB, t=${ARGON2.timeCost}, p=${ARGON2.parallelism}): ` +
      `one verify takes ${context.argon2Ms.toFixed(1)} ms here, so ${context.cpus} CPUs allow at most ~${ceiling.toFixed(0)} logins/s ` +
      'for any server, before the load generator takes its share.',
  );
  console.log(
    'Bastion /me does more than the baseline: session + user + group permissions in one query (the guard), then the ' +
      'profile, groups and credential queries for the response, plus request id, logging, helmet, validation and the ' +
      'problem+json pipeline; Bastion login also locks the credential row and writes session, activity and a hash-chained ' +
      'audit entry in one transaction. The ratio is the cost of that pipeline.',
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureBuilt();
  const argon2Ms = await argon2VerifyMs();
  const cpus = availableParallelism();

  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  const pgVersion = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  const dbName = `bastion_bench_auth_${process.pid}`;
  const dbUrl = new URL(SERVER_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-bench-auth-'));
  await admin.query(`CREATE DATABASE ${dbName}`);

  const running = new Set<ServerProcess>();
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await Promise.all([...running].map((s) => s.stop(5000)));
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch((err: unknown) => {
        console.error(`could not drop ${dbName}: ${String(err)}`);
      });
      await admin.end().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    })());
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(code));
    });
  }

  try {
    const users: BenchUser[] = Array.from({ length: USER_COUNT }, (_, i) => ({
      email: `bench-user-${i}@example.com`,
      password: `Quiet-Orchard-${i}-Lantern`,
    }));
    const loadBefore = loadavg();
    const t0 = performance.now();
    const bastion = await benchBastion(dbUrl.toString(), dataDir, users, (s) => running.add(s));
    const baseline = await benchBaseline(dbUrl.toString(), users, (s) => running.add(s));
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
      ],
      { argon2Ms, cpus },
    );
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
