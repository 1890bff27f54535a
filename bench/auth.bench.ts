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
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { load, type LoadResult, type LoadSettings } from './support/load';
import { ADMIN, call, ROOT, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';
import { freePort, type ServerProcess, startServer } from './support/server-process';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

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
    const me = await call<{ email: string }>('GET', `${server.url}/me`, 200, {
      headers: { authorization: `Bearer ${tokens[0]}` },
    });
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
