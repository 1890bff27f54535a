/**
 * Requests per second of one endpoint, `GET /api/v1/portfolios`, called by the same trader with a
 * JWT (Authorization: Bearer) and with an API key (X-API-Key), one after the other in one run
 * against one built Bastion in cluster mode on a fresh PostgreSQL database.
 *
 *   npm run bench:api-key
 *   DATABASE_URL=postgres://... BENCH_CONNECTIONS=20 BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_ROUNDS=2 npm run bench:api-key
 *   BENCH_ORDER=key-first npm run bench:api-key     # the API key goes first (default: jwt-first)
 *
 * Each method is measured BENCH_ROUNDS times, BENCH_DURATION seconds each after BENCH_WARMUP
 * seconds of unmeasured load, in mirrored order (JWT, key, key, JWT, ...): on a shared machine
 * the throughput drifted by a factor of two within a minute, and a single JWT-then-key pair
 * measured mostly that drift (key/JWT 2.5x in that order, 1.0x the other way round). Before the
 * first round, each method gets BENCH_WARMUP seconds of load, so neither pays alone for a cold
 * server.
 *
 * Each round (and each warm-up) comes from its own client address, sent as X-Forwarded-For from a
 * trusted proxy (127.0.0.1), in 198.18.0.0/15 (RFC 2544's benchmarking range). With the limits
 * lifted, @nestjs/throttler's in-memory storage keeps one expiry per hit for a minute and filters
 * the whole list on every hit, so the per-IP bucket shared by both methods would make each request
 * dearer the more requests came before it (about 0.9 ms per hit at 20,000 hits in the window,
 * against 25 µs at 5,000): a fresh address per round gives both methods the same per-IP cost. One
 * address for all the connections of a round keeps the API key's "last used from" update to
 * once per round, as it would be for an integrator calling from one host.
 *
 * The two methods differ only in how the guard authenticates: the JWT path verifies the token and
 * loads the session snapshot (session, user, group permissions) and touches the session; the key
 * path hashes the secret and loads key, owner and group permissions in one query (its last-used
 * update runs at most once a minute). The handler, its query, the rate-limit checks (limits lifted,
 * but still evaluated), logging and the problem+json pipeline are the same for both.
 *
 * DATABASE_URL names the server (a database `bastion_bench_api_key_<pid>` is created on it and
 * dropped at the end, also on error or Ctrl-C); the load generator (autocannon) runs in this
 * process, so it shares the CPUs with the server, equally for both methods. Figures only: a benchmark
 * never fails on time, but it warns when a method saw non-2xx answers or errors.
 */
import { availableParallelism, loadavg } from 'node:os';
import { load, type LoadResult, type LoadSettings, loadSettingsFromEnv } from './support/load';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';
import type { ServerProcess } from './support/server-process';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const SETTINGS: LoadSettings = loadSettingsFromEnv();
const ROUNDS = Math.max(1, intFromEnv('BENCH_ROUNDS', 2));
const ORDER = process.env.BENCH_ORDER || 'jwt-first';
if (ORDER !== 'jwt-first' && ORDER !== 'key-first') {
  throw new Error(`BENCH_ORDER must be jwt-first or key-first, got ${ORDER}`);
}
const TRADER = { email: 'bench-trader@example.com', password: 'Quiet-Orchard-7-Lantern' };
const ENDPOINT = '/portfolios';
/** The n-th client address of the run, in RFC 2544's benchmarking range 198.18.0.0/15. */
const clientAddress = (n: number): string => `198.18.${Math.floor(n / 256) % 256}.${n % 256}`;

// ---------------------------------------------------------------------------------------------
// Helpers

type Auth = { bearer: string } | { apiKey: string };

function authHeaders(auth: Auth, clientIp?: string): Record<string, string> {
  const from: Record<string, string> = clientIp ? { 'x-forwarded-for': clientIp } : {};
  return 'bearer' in auth ? { authorization: `Bearer ${auth.bearer}`, ...from } : { 'x-api-key': auth.apiKey, ...from };
}

// ---------------------------------------------------------------------------------------------
// The run

type Kind = 'jwt' | 'key';

const LABELS: Record<Kind, string> = { jwt: 'JWT (Bearer)', key: 'API key (X-API-Key)' };

interface Row {
  kind: Kind;
  round: number;
  result: LoadResult;
}

/** JWT, key, key, JWT, JWT, key, ... (or the mirror): a steady drift in the machine's speed cancels out. */
function schedule(rounds: number, first: Kind): { kind: Kind; round: number }[] {
  const second: Kind = first === 'jwt' ? 'key' : 'jwt';
  return Array.from({ length: rounds }, (_, r) => {
    const pair = r % 2 === 0 ? [first, second] : [second, first];
    return pair.map((kind) => ({ kind, round: r + 1 }));
  }).flat();
}

async function benchBastion(dbUrl: string, dataDir: string, track: (s: ServerProcess) => void): Promise<Row[]> {
  const server = await startBastion({ dbUrl, dataDir, onSpawn: track, env: { TRUSTED_PROXIES: '127.0.0.1' } });
  try {
    const api = `${server.url}/api/v1`;
    const admin = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: ADMIN });
    await call('POST', `${api}/users`, 201, {
      headers: authHeaders({ bearer: admin.accessToken }),
      body: { ...TRADER, firstName: 'Bench', lastName: 'Trader', roles: ['trader'] },
    });
    const { accessToken } = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: TRADER });
    const jwt: Auth = { bearer: accessToken };
    const portfolio = await call<{ id: string }>('POST', `${api}/portfolios`, 201, {
      headers: authHeaders(jwt),
      body: { name: 'Bench portfolio', baseCurrency: 'USD' },
    });
    const { secret } = await call<{ secret: string }>('POST', `${api}/api-keys`, 201, {
      headers: authHeaders(jwt),
      body: { name: 'bench', scopes: ['portfolios:read'], password: TRADER.password },
    });
    const key: Auth = { apiKey: secret };

    // Both credentials must see the same answer before the load starts, and X-Forwarded-For must
    // be believed (the key records the address it was last used from).
    let clients = 0;
    for (const [label, auth] of [
      ['JWT', jwt],
      ['API key', key],
    ] as const) {
      const page = await call<{ items: { id: string }[] }>('GET', `${api}${ENDPOINT}`, 200, {
        headers: authHeaders(auth, clientAddress(++clients)),
      });
      if (page.items.length !== 1 || page.items[0].id !== portfolio.id) {
        throw new Error(`${label}: GET ${ENDPOINT} answered ${JSON.stringify(page)}`);
      }
    }
    const keys = await call<{ items: { lastUsedIp: string | null }[] }>('GET', `${api}/api-keys`, 200, {
      headers: authHeaders(jwt),
    });
    if (keys.items[0]?.lastUsedIp !== clientAddress(clients)) {
      throw new Error(`X-Forwarded-For was not honoured: the key was last used from ${keys.items[0]?.lastUsedIp}`);
    }

    const credentials: Record<Kind, Auth> = { jwt, key };
    const request = (auth: Auth): Parameters<typeof load>[1] => {
      const clientIp = clientAddress(++clients);
      return { url: `${api}${ENDPOINT}`, method: 'GET', perClient: () => ({ headers: authHeaders(auth, clientIp) }) };
    };
    // Unmeasured, before the rounds: both paths under load once, so the first measured round does
    // not pay alone for a cold server (JIT, connection pool, query plans of a fresh database).
    if (SETTINGS.warmup > 0) {
      for (const auth of [jwt, key]) {
        await load({ ...SETTINGS, duration: SETTINGS.warmup, warmup: 0 }, request(auth));
      }
    }
    const rows: Row[] = [];
    for (const { kind, round } of schedule(ROUNDS, ORDER === 'jwt-first' ? 'jwt' : 'key')) {
      rows.push({ kind, round, result: await load(SETTINGS, request(credentials[kind])) });
    }
    return rows;
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function printTable(rows: Row[]): void {
  const widths = [20, 6, 9, 7, 7, 8, 9];
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');

  console.log('\neach round, in the order run');
  console.log(line(['auth method', 'round', 'rps', 'p50 ms', 'p99 ms', '2xx', 'failures']));
  for (const { kind, round, result } of rows) {
    console.log(
      line([
        LABELS[kind],
        String(round),
        result.rps.toFixed(1),
        result.p50.toFixed(0),
        result.p99.toFixed(0),
        String(result.ok),
        String(result.failed),
      ]),
    );
  }

  // Every round lasts the same time, so the mean of the rounds' rps is the rps over all of them.
  const summary = (['jwt', 'key'] as const).map((kind) => {
    const results = rows.filter((r) => r.kind === kind).map((r) => r.result);
    return {
      kind,
      rps: results.reduce((sum, r) => sum + r.rps, 0) / results.length,
      p50: median(results.map((r) => r.p50)),
      p99: Math.max(...results.map((r) => r.p99)),
      ok: results.reduce((sum, r) => sum + r.ok, 0),
      failed: results.reduce((sum, r) => sum + r.failed, 0),
      statusCodes: results.reduce<Record<string, number>>((all, r) => {
        for (const [code, n] of Object.entries(r.statusCodes)) all[code] = (all[code] ?? 0) + n;
        return all;
      }, {}),
    };
  });
  console.log(
    `\nper method, ${ROUNDS} round(s): rps over all rounds, p50 the median of the rounds', p99 the worst round's`,
  );
  console.log(line(['auth method', 'rounds', 'rps', 'p50 ms', 'p99 ms', '2xx', 'failures']));
  for (const m of summary) {
    console.log(
      line([
        LABELS[m.kind],
        String(ROUNDS),
        m.rps.toFixed(1),
        m.p50.toFixed(0),
        m.p99.toFixed(0),
        String(m.ok),
        String(m.failed),
      ]),
    );
  }
  const [jwt, key] = summary;
  if (jwt.rps > 0) console.log(`API key / JWT rps: ${(key.rps / jwt.rps).toFixed(2)}x`);
  for (const m of summary) {
    if (m.failed > 0) {
      console.log(
        `WARNING ${LABELS[m.kind]}: ${m.failed} of ${m.ok + m.failed} requests were not 2xx or failed, ` +
          `status codes ${JSON.stringify(m.statusCodes)}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureBuilt();
  const cpus = availableParallelism();

  const db = await openBenchDatabase('api-key', SERVER_URL);
  const { pgVersion, dataDir } = db;
  const dbUrl = db.url;
  const cleanup = db.cleanup;

  try {
    const loadBefore = loadavg();
    const t0 = performance.now();
    const rows = await benchBastion(dbUrl, dataDir, db.track);
    const loadAfter = loadavg();

    console.log(
      `\nGET /api/v1${ENDPOINT} by JWT and by API key, Node ${process.version}, ${cpus} CPUs, PostgreSQL ${pgVersion}, ` +
        `${SETTINGS.connections} connections, ${ROUNDS} round(s) per method of ${SETTINGS.duration} s measured ` +
        `after ${SETTINGS.warmup} s warm-up (and ${SETTINGS.warmup} s of each before the first), ` +
        `one trader, one portfolio, BENCH_ORDER=${ORDER}`,
    );
    console.log(
      `load average (1 min) before ${loadBefore[0].toFixed(2)}, after ${loadAfter[0].toFixed(2)}; ` +
        `server measured in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    printTable(rows);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
