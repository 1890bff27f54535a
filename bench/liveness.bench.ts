/**
 * Does the embedded database freeze the API? /health/live latency while a back-dated bulk of
 * BULK trades (default 10,000, executed before a history of HISTORY trades, so every symbol's
 * positions are recomputed) runs in embedded mode, with PGlite:
 *  - `main-thread`: on the API's own thread, served on TCP (how Bastion ran before; "before");
 *  - `worker`: in a worker thread on a Unix socket (EmbeddedDatabase today; "after").
 *
 *   npm run bench:liveness
 *   ENGINES=worker BULK=10000 HISTORY=10000 npm run bench:liveness
 *
 * A probe client asks GET /health/live every PROBE_MS (10) ms from this process during the bulk
 * and prints p50/p99/max in milliseconds. Target: p99 under 50 ms. Prints figures, never fails on time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createApp } from '../src/app.setup';
import { buildConfig, parseEnv } from '../src/common/config/app-config';
import { EmbeddedDatabase } from '../src/common/database/embedded-database';

const BULK = Number(process.env.BULK ?? 10_000);
const HISTORY = Number(process.env.HISTORY ?? 10_000);
const PROBE_MS = Number(process.env.PROBE_MS ?? 10);
const ENGINES = (process.env.ENGINES ?? 'main-thread,worker').split(',');
const ADMIN = { email: 'bench@example.com', password: 'Quiet-Harbour-Lantern-4821' };
const SYMBOLS = Array.from({ length: 20 }, (_, i) => `SYM${String(i).padStart(3, '0')}`);

function trades(count: number, startMs: number, prefix: string) {
  return Array.from({ length: count }, (_, n) => ({
    symbol: SYMBOLS[(n * 7) % SYMBOLS.length],
    side: 'buy',
    quantity: String((n % 50) + 1),
    price: `${100 + (n % 97)}.${String(n % 100).padStart(2, '0')}`,
    executedAt: new Date(startMs + n * 1000).toISOString(),
    externalId: `${prefix}-${n}`,
  }));
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** The engine as Bastion ran it before: PGlite on the API's thread, pglite-socket on TCP. */
async function mainThreadEngine(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const db = await PGlite.create({ dataDir: dir });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}

async function run(engineKind: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-bench-live-'));
  const engine =
    engineKind === 'worker'
      ? await EmbeddedDatabase.start(join(dataDir, 'pgdata'))
      : await mainThreadEngine(join(dataDir, 'pgdata'));
  const env = parseEnv({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_USER_PER_MINUTE: '100000000',
  });
  const config = buildConfig(env, {
    jwtSecret: randomBytes(32),
    masterKey: randomBytes(32),
    source: 'provided',
  });
  config.database.url = engine.url;
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
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  try {
    const token = (JSON.parse((await call('POST', '/api/v1/auth/login', ADMIN)).text) as { accessToken: string })
      .accessToken;
    const portfolio = (
      JSON.parse((await call('POST', '/api/v1/portfolios', { name: 'Live', baseCurrency: 'USD' }, token)).text) as {
        id: string;
      }
    ).id;
    const historyStart = Date.UTC(2025, 5, 1);
    for (let i = 0; i < HISTORY; i += 1000) {
      const res = await call(
        'POST',
        `/api/v1/portfolios/${portfolio}/trades/bulk`,
        { trades: trades(Math.min(1000, HISTORY - i), historyStart + i * 1000, `h${i}`) },
        token,
      );
      if (res.status >= 300) throw new Error(`history answered ${res.status}: ${res.text.slice(0, 300)}`);
    }
    // Back-dated: executed before the whole history.
    const backDated = trades(BULK, Date.UTC(2025, 0, 1), 'back');

    const latencies: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const t0 = performance.now();
        await call('GET', '/health/live');
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, PROBE_MS));
      }
    })();
    const t0 = performance.now();
    const res = await call('POST', `/api/v1/portfolios/${portfolio}/trades/bulk`, { trades: backDated }, token);
    const bulkMs = performance.now() - t0;
    probing = false;
    await probe;
    if (res.status >= 300) throw new Error(`bulk answered ${res.status}: ${res.text.slice(0, 300)}`);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `${engineKind.padEnd(12)} back-dated bulk of ${BULK} after ${HISTORY}: ${bulkMs.toFixed(0)} ms; ` +
        `/health/live during it (${sorted.length} probes): p50 ${pct(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${pct(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`,
    );
  } finally {
    agent.destroy();
    await app.close();
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `Liveness during a back-dated bulk, embedded mode, Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(2)}`,
  );
  for (const kind of ENGINES) await run(kind);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
