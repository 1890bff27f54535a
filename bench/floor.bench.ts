/**
 * Where the floor is (issue 15): the same GET /me (a jose HS256 check and one one-row query) served
 * one rung at a time, in one run, on one fresh database, each server alone on the machine:
 *
 *   baseline              bare Express + jose + pg (bench/support/baseline-server.ts)
 *   Nest/Express bare     the same handler in a NestJS controller (bench/support/nest-floor-server.ts)
 *   Nest/Express app      + global prefix and URI versioning, a global guard, ValidationPipe,
 *                         an interceptor and an exception filter (what any Nest API carries)
 *   Nest/Fastify bare     the bare rung on @nestjs/platform-fastify
 *   Nest/Fastify app      the app rung on @nestjs/platform-fastify
 *   Bastion /health/live  the built app's cheapest route: its whole pipeline, no auth, no query
 *   Bastion /me           the built app's GET /api/v1/me
 *
 * For each: requests per second, p99, and the server's CPU time per request (from /proc), which is
 * the figure to compare: rps moves with the load generator sharing the 2 cores, CPU per request
 * much less. The gaps between rungs say what the framework costs, what Bastion's pipeline costs,
 * and whether the Fastify adapter would change the picture.
 *
 * The whole ladder runs BENCH_ROUNDS times (3): on this shared VM one run of a rung moves by 100 µs
 * or more per request from one run to the next, so each row is the round with the median CPU per
 * request, printed with the range of all rounds.
 *
 *   npm run bench:floor
 *   BENCH_ROUNDS=5 BENCH_CONNECTIONS=20 BENCH_DURATION=10 BENCH_WARMUP=2 npm run bench:floor
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, ROOT, startBastion } from './support/bastion';
import { load, type LoadResult, type LoadSettings, loadSettingsFromEnv } from './support/load';
import { freePort, type ServerProcess, startServer } from './support/server-process';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SETTINGS: LoadSettings = loadSettingsFromEnv();
/** Rounds of the whole ladder: single runs on a shared VM move by 100 µs or more per request. */
const ROUNDS = Math.max(1, intFromEnv('BENCH_ROUNDS', 3));

interface Row {
  label: string;
  result: LoadResult;
}

const bearer = (token: string) => () => ({ headers: { authorization: `Bearer ${token}` } });

async function main(): Promise<void> {
  ensureBuilt();
  const db = await openBenchDatabase('floor', SERVER_URL);
  const rows: Row[] = [];
  const before = loadavg();
  const secret = randomBytes(32).toString('base64');
  // The same keys every round: the database holds key material wrapped by the first one's MASTER_KEY.
  const bastionKeys = {
    JWT_SECRET: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
  };
  let token = '';
  try {
    for (let round = 1; round <= ROUNDS; round++) await ladder(round);
  } finally {
    await db.cleanup();
  }

  /** Every rung once, one server at a time; Bastion first (its migrations create the tables, its bootstrap the user). */
  async function ladder(round: number): Promise<void> {
    if (ROUNDS > 1) console.log(`round ${round} of ${ROUNDS}`);
    const bastion = await startBastion({ dbUrl: db.url, dataDir: db.dataDir, onSpawn: db.track, env: bastionKeys });
    try {
      const api = `${bastion.url}/api/v1`;
      const { accessToken } = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: ADMIN });
      const cpu = (): number | undefined => bastion.cpuMs();
      rows.push({
        label: 'Bastion /health/live',
        result: await load(
          SETTINGS,
          { url: `${bastion.url}/health/live`, method: 'GET', perClient: () => ({ headers: {} }) },
          cpu,
        ),
      });
      rows.push({
        label: 'Bastion /me',
        result: await load(SETTINGS, { url: `${api}/me`, method: 'GET', perClient: bearer(accessToken) }, cpu),
      });
    } finally {
      await bastion.stop();
    }

    const env = (port: number): Record<string, string> => ({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: db.url,
      BASELINE_POOL_SIZE: '10',
      BASELINE_JWT_SECRET: secret,
    });
    const rung = async (label: string, script: string, extra: Record<string, string>, path: string): Promise<void> => {
      const port = await freePort();
      const server: ServerProcess = await startServer({
        name: label,
        cwd: ROOT,
        args: ['-r', '@swc-node/register', script],
        port,
        readyPath: '/health',
        onSpawn: db.track,
        env: { ...env(port), ...extra },
      });
      try {
        if (!token) {
          token = (await call<{ accessToken: string }>('POST', `${server.url}/login`, 200, { body: ADMIN }))
            .accessToken;
        }
        const me = await call<{ email: string }>('GET', `${server.url}${path}`, 200, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (me.email !== ADMIN.email) throw new Error(`${label} answered for ${me.email}`);
        rows.push({
          label,
          result: await load(SETTINGS, { url: `${server.url}${path}`, method: 'GET', perClient: bearer(token) }, () =>
            server.cpuMs(),
          ),
        });
      } finally {
        await server.stop();
      }
    };
    await rung('baseline (Express)', 'bench/support/baseline-server.ts', {}, '/me');
    const nest = 'bench/support/nest-floor-server.ts';
    await rung('Nest/Express bare', nest, { FLOOR_ADAPTER: 'express', FLOOR_PIPELINE: 'bare' }, '/me');
    await rung('Nest/Express app', nest, { FLOOR_ADAPTER: 'express', FLOOR_PIPELINE: 'app' }, '/api/v1/me');
    await rung('Nest/Fastify bare', nest, { FLOOR_ADAPTER: 'fastify', FLOOR_PIPELINE: 'bare' }, '/me');
    await rung('Nest/Fastify app', nest, { FLOOR_ADAPTER: 'fastify', FLOOR_PIPELINE: 'app' }, '/api/v1/me');
  }
  const after = loadavg();

  /** The median of each rung's rounds (by CPU per request), with the range of its CPU figures. */
  const median = (label: string): { r: LoadResult; low?: number; high?: number } | undefined => {
    const runs = rows.filter((x) => x.label === label).map((x) => x.result);
    if (runs.length === 0) return undefined;
    const byCpu = [...runs].sort((a, b) => (a.cpuUsPerRequest ?? 0) - (b.cpuUsPerRequest ?? 0));
    return {
      r: byCpu[Math.floor((byCpu.length - 1) / 2)],
      low: byCpu[0].cpuUsPerRequest,
      high: byCpu[byCpu.length - 1].cpuUsPerRequest,
    };
  };
  const baseline = median('baseline (Express)')!.r;
  console.log(
    `\nGET /me floor, Node ${process.version}, ${availableParallelism()} CPUs, ${SETTINGS.connections} connections, ` +
      `${SETTINGS.duration} s measured after ${SETTINGS.warmup} s warm-up per row, pool 10 each, ` +
      `${ROUNDS} round(s): each row is the round with the median CPU per request, the range beside it`,
  );
  console.log(`load average (1 min) before ${before[0].toFixed(2)}, after ${after[0].toFixed(2)}`);
  const widths = [22, 10, 8, 16, 14, 14, 16];
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ');
  console.log(line(['', 'rps', 'p99 ms', 'CPU µs/request', 'CPU range', 'vs baseline', 'rps / baseline']));
  const order = [
    'baseline (Express)',
    'Nest/Express bare',
    'Nest/Express app',
    'Nest/Fastify bare',
    'Nest/Fastify app',
    'Bastion /health/live',
    'Bastion /me',
  ];
  for (const label of order) {
    const m = median(label);
    if (!m) continue;
    const { r } = m;
    const cpu = r.cpuUsPerRequest;
    const base = baseline.cpuUsPerRequest;
    console.log(
      line([
        label,
        r.rps.toFixed(0),
        r.p99.toFixed(0),
        cpu?.toFixed(0) ?? 'n/a',
        m.low !== undefined && m.high !== undefined ? `${m.low.toFixed(0)}-${m.high.toFixed(0)}` : 'n/a',
        cpu !== undefined && base !== undefined ? `${cpu - base >= 0 ? '+' : ''}${(cpu - base).toFixed(0)} µs` : 'n/a',
        `${(r.rps / baseline.rps).toFixed(2)}x`,
      ]),
    );
  }
  for (const { label, result } of rows) {
    if (result.failed > 0) {
      console.log(`WARNING ${label}: ${result.failed} failed, status codes ${JSON.stringify(result.statusCodes)}`);
    }
  }
  console.log(
    'Bastion /health/live carries the whole pipeline (request id, log line, security headers, IP rules, rate limits, ' +
      'metrics, problem+json) with no token check and no query: the least any Bastion route costs.',
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
