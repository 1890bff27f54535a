/**
 * Trading throughput and latency against PostgreSQL, with the whole app booted in process through
 * createApp (app.setup.ts, what main.ts serves) and driven over real HTTP on 127.0.0.1.
 *
 *   npm run bench:trading
 *   DATABASE_URL=postgres://user@host:5432/postgres npm run bench:trading   # server to use
 *   BENCH_DB=embedded npm run bench:trading       # the embedded engine (PGlite in a worker thread)
 *
 * It creates its own database on that server (and drops it at the end), or with BENCH_DB=embedded
 * an embedded engine in a temporary directory, then measures:
 *  1. bulk ingestion: BATCHES requests of BATCH trades (default 100 × 1,000) into one portfolio,
 *     one after the other (ingestion is serialised per portfolio), and then the same spread over
 *     STREAMS portfolios in parallel; in trades per second (targets: 40,000 and 60,000), and the
 *     database's own limit: `COPY FROM STDIN` (pg-copy-streams, on one of the app's connections)
 *     of the same rows into a table with the same keys (`LIKE trades INCLUDING ALL`: primary key,
 *     unique and other indexes, checks), with the ratio of the sequential figure to it (target
 *     at least 0.25);
 *  2. one out-of-order batch (executed before the history), which recomputes its symbols;
 *  3. GET /api/v1/portfolios/:id/positions of the portfolio now holding BATCHES × BATCH trades:
 *     READS sequential requests after a warm-up, then CONCURRENCY clients at once; latency
 *     percentiles in milliseconds (target: p99 under 50 ms);
 *  4. positions with `asOf` at AS_OF_READS moments spread over the history (each starts from a
 *     snapshot and replays fewer than 64 trades per symbol; target: p99 under 50 ms at 100k trades),
 *     GET /me alone and while eight clients call `asOf` in parallel (ME_READS each), and
 *     GET /api/v2/portfolios/:id.
 *
 * Settings (environment): BENCH_DB (server | embedded), DATABASE_URL, BATCHES (100), BATCH (1000), STREAMS (4), READS (2000),
 * CONCURRENCY (8), SYMBOLS (20), AS_OF_READS (200), ME_READS (200), LOG_LEVEL (silent),
 * DATABASE_POOL_SIZE (10).
 * Benchmarks print figures; they never fail on time.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.setup';
import { buildConfig, parseEnv } from '../src/common/config/app-config';
import { EmbeddedDatabase } from '../src/common/database/embedded-database';
import { uuidv7 } from '../src/trading/uuid-v7';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EMBEDDED = process.env.BENCH_DB === 'embedded';
const BATCHES = Number(process.env.BATCHES ?? 100);
const BATCH = Number(process.env.BATCH ?? 1000);
const STREAMS = Number(process.env.STREAMS ?? 4);
const READS = Number(process.env.READS ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const SYMBOL_COUNT = Number(process.env.SYMBOLS ?? 20);
const AS_OF_READS = Number(process.env.AS_OF_READS ?? 200);
const ME_READS = Number(process.env.ME_READS ?? 200);
const ADMIN = { email: 'bench@example.com', password: 'Quiet-Harbour-Lantern-4821' };

interface Trade {
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string;
  fees: string;
  executedAt: string;
  externalId: string;
}

const SYMBOLS = Array.from({ length: SYMBOL_COUNT }, (_, i) => `SYM${String(i).padStart(3, '0')}`);
const START = Date.UTC(2025, 0, 2, 9, 0);

/**
 * Deterministic trades in execution order: mostly buys, and sells of part of what is held, so a
 * long-only portfolio accepts them all.
 */
function makeTrades(count: number, offset: number, prefix: string, startMs = START): Trade[] {
  const held = new Map<string, number>();
  const trades: Trade[] = [];
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    const symbol = SYMBOLS[(n * 7) % SYMBOLS.length];
    const qty = (n % 50) + 1;
    const h = held.get(symbol) ?? 0;
    const sell = n % 4 === 3 && h > qty;
    held.set(symbol, sell ? h - qty : h + qty);
    trades.push({
      symbol,
      side: sell ? 'sell' : 'buy',
      quantity: String(qty),
      price: `${100 + (n % 97)}.${String(n % 100).padStart(2, '0')}`,
      fees: (n % 10) / 10 === 0 ? '0' : `0.${n % 10}`,
      executedAt: new Date(startMs + n * 1000).toISOString(),
      externalId: `${prefix}-${n}`,
    });
  }
  return trades;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function latencyLine(label: string, ms: number[], wallMs?: number): string {
  if (ms.length === 0) return `${label.padEnd(44)} not measured (n=0)`;
  const s = [...ms].sort((a, b) => a - b);
  const rate = wallMs ? `   ${((ms.length / wallMs) * 1000).toFixed(0)} req/s` : '';
  return `${label.padEnd(44)} p50 ${percentile(s, 50).toFixed(2).padStart(7)} ms   p95 ${percentile(s, 95).toFixed(2).padStart(7)} ms   p99 ${percentile(s, 99).toFixed(2).padStart(7)} ms   max ${s[s.length - 1].toFixed(2).padStart(7)} ms   (n=${ms.length})${rate}`;
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

/** One CSV field: quoted when it holds a comma, a quote or a line break. */
const csv = (v: string | null): string => (v === null ? '' : /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The database's limit for the same rows: COPY FROM STDIN into a table with the keys of `trades`
 * (LIKE ... INCLUDING ALL), on one of the app's own connections. The embedded engine's socket
 * (pglite-socket 0.2.17) drops the connection on COPY FROM STDIN ("protocol synchronization was
 * lost"), so there the limit is one INSERT ... SELECT of the rows already stored, with new UUID v7
 * ids: the same heap and index work without any client transfer (a bound COPY would also pay).
 */
async function copyBaseline(
  ds: DataSource,
  portfolioId: string,
  trades: Trade[],
  /** Also trades' two foreign keys (portfolio, instrument): a check per row, as every trade insert pays. */
  foreignKeys = false,
): Promise<{ ms: number; how: string }> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('DROP TABLE IF EXISTS bench_copy_trades');
    await runner.query('CREATE TABLE bench_copy_trades (LIKE trades INCLUDING ALL)');
    if (foreignKeys) {
      await runner.query(
        `ALTER TABLE bench_copy_trades
           ADD FOREIGN KEY (portfolio_id) REFERENCES portfolios (id) ON DELETE CASCADE,
           ADD FOREIGN KEY (symbol) REFERENCES instruments (symbol)`,
      );
    }
    let ms: number;
    let how: string;
    if (EMBEDDED) {
      const ids = trades.map(() => uuidv7());
      const t0 = performance.now();
      await runner.query(
        `INSERT INTO bench_copy_trades (id, portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id)
         SELECT u.id, t.portfolio_id, t.seq, t.symbol, t.side, t.quantity, t.price, t.fees, t.executed_at, t.external_id
           FROM (SELECT *, row_number() OVER (ORDER BY seq) AS n FROM trades WHERE portfolio_id = $1) t
           JOIN unnest($2::uuid[]) WITH ORDINALITY AS u(id, n) ON u.n = t.n`,
        [portfolioId, ids],
      );
      ms = performance.now() - t0;
      how = 'INSERT ... SELECT (no COPY FROM STDIN on the embedded socket) of the same';
    } else {
      const client = (await runner.connect()) as PoolClient;
      // The CSV is made before the clock starts, with the ids ingestion uses (UUID v7, time-ordered).
      const chunks: string[] = [];
      for (let i = 0; i < trades.length; i += 1000) {
        let chunk = '';
        trades.slice(i, i + 1000).forEach((t, j) => {
          chunk += `${uuidv7()},${portfolioId},${i + j + 1},${t.symbol},${t.side},${t.quantity},${t.price},${t.fees},${t.executedAt},${csv(t.externalId)}\n`;
        });
        chunks.push(chunk);
      }
      const t0 = performance.now();
      await pipeline(
        Readable.from(chunks),
        client.query(
          copyFrom(
            `COPY bench_copy_trades (id, portfolio_id, seq, symbol, side, quantity, price, fees, executed_at, external_id)
               FROM STDIN WITH (FORMAT csv)`,
          ),
        ),
      );
      ms = performance.now() - t0;
      how = 'COPY FROM STDIN of the same';
    }
    await runner.query('DROP TABLE bench_copy_trades');
    return { ms, how };
  } finally {
    await runner.release();
  }
}

const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');

/** Resident memory of this process (the app and the load client), in MB. */
const rssMb = (): number => process.memoryUsage.rss() / 1024 / 1024;

async function main(): Promise<void> {
  const dbName = `bastion_bench_trading_${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-bench-trading-'));
  let dbUrl = new URL(SERVER_URL);
  let embedded: EmbeddedDatabase | undefined;
  if (EMBEDDED) {
    embedded = await EmbeddedDatabase.start(join(dataDir, 'pgdata'));
    dbUrl = new URL(embedded.url);
  } else {
    await withServer((c) => c.query(`CREATE DATABASE ${dbName}`));
    dbUrl.pathname = `/${dbName}`;
  }

  const env = parseEnv({
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATA_DIR: dataDir,
    // Embedded: no DATABASE_URL, so the app runs as in embedded mode (one connection); its URL is
    // the engine's, set below.
    ...(embedded ? {} : { DATABASE_URL: dbUrl.toString(), DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '10' }),
    JWT_SECRET: randomBytes(32).toString('base64'),
    MASTER_KEY: randomBytes(32).toString('base64'),
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    // Requests in this run come from one address far faster than any client limit.
    RATE_LIMIT_IP_PER_MINUTE: '100000000',
    RATE_LIMIT_USER_PER_MINUTE: '100000000',
  });
  const config = buildConfig(env, {
    jwtSecret: Buffer.from(env.JWT_SECRET!, 'base64url'),
    masterKey: Buffer.from(env.MASTER_KEY!, 'base64url'),
    source: 'environment',
  });
  if (embedded) config.database.url = embedded.url;
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const dataSource = app.get(DataSource);
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  // node:http with keep-alive: the client shares this process, so it should cost as little as possible.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  interface Reply {
    status: number;
    text: string;
  }
  const send = (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method,
          agent,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const call = (method: string, path: string, body?: unknown, token?: string): Promise<Reply> =>
    send(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      token ? { authorization: `Bearer ${token}` } : {},
    );
  const ok = (res: Reply, what: string): Record<string, unknown> => {
    if (res.status >= 300) throw new Error(`${what} answered ${res.status}: ${res.text.slice(0, 500)}`);
    return res.text ? (JSON.parse(res.text) as Record<string, unknown>) : {};
  };

  // Idle: started, settled, nothing sent yet.
  await new Promise((r) => setTimeout(r, 2000));
  const rssIdle = rssMb();
  let rssAfterIngest: number | undefined;
  try {
    const login = ok(await call('POST', '/api/v1/auth/login', ADMIN), 'login');
    const token = login.accessToken as string;
    const newPortfolio = async (name: string): Promise<string> =>
      ok(await call('POST', '/api/v1/portfolios', { name, baseCurrency: 'USD' }, token), 'portfolio').id as string;

    console.log(
      `Trading benchmark: ${embedded ? 'embedded engine (PGlite in a worker thread)' : `PostgreSQL ${dbUrl.host}`}, Node ${process.version}, batches of ${BATCH}, ${embedded ? 'one connection' : `pool ${config.database.poolSize}`}, ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(2)}`,
    );

    // 1. Bulk ingestion into one portfolio, one batch after the other.
    const book = await newPortfolio('bench main');
    const all = makeTrades(BATCHES * BATCH, 0, 'M');
    const bodies = Array.from({ length: BATCHES }, (_, b) =>
      JSON.stringify({ trades: all.slice(b * BATCH, (b + 1) * BATCH) }),
    );
    const batchMs: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let b = 0; b < BATCHES; b++) {
      const s = performance.now();
      const res = await send('POST', `/api/v1/portfolios/${book}/trades/bulk`, bodies[b], {
        authorization: `Bearer ${token}`,
        'idempotency-key': `bench-${b}`,
      });
      ok(res, `batch ${b}`);
      batchMs.push(performance.now() - s);
    }
    const sequentialMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const bodyKb = Buffer.byteLength(bodies[0]) / 1024;
    console.log(
      `\n1. Bulk ingestion, one portfolio, sequential: ${BATCHES * BATCH} trades in ${(sequentialMs / 1000).toFixed(2)} s = ${((BATCHES * BATCH) / (sequentialMs / 1000)).toFixed(0)} trades/s (body ${bodyKb.toFixed(0)} KiB per batch)`,
    );
    console.log(latencyLine('   per batch request', batchMs));
    // CPU of this process (server and client) per batch: less sensitive to other load than wall time.
    console.log(`   Node CPU per batch of ${BATCH}: ${((cpu.user + cpu.system) / 1000 / BATCHES).toFixed(1)} ms`);
    const sequentialRate = (BATCHES * BATCH) / (sequentialMs / 1000);

    // The same volume over STREAMS portfolios at once.
    const streams = await Promise.all(Array.from({ length: STREAMS }, (_, i) => newPortfolio(`bench stream ${i}`)));
    const perStream = Math.ceil(BATCHES / STREAMS);
    const streamBodies = streams.map((_, s) => {
      const trades = makeTrades(perStream * BATCH, 0, `S${s}`);
      return Array.from({ length: perStream }, (_, b) =>
        JSON.stringify({ trades: trades.slice(b * BATCH, (b + 1) * BATCH) }),
      );
    });
    const t1 = performance.now();
    await Promise.all(
      streams.map(async (id, s) => {
        for (let b = 0; b < perStream; b++) {
          const res = await send('POST', `/api/v1/portfolios/${id}/trades/bulk`, streamBodies[s][b], {
            authorization: `Bearer ${token}`,
          });
          ok(res, `stream ${s} batch ${b}`);
        }
      }),
    );
    const parallelMs = performance.now() - t1;
    const parallelRate = (STREAMS * perStream * BATCH) / (parallelMs / 1000);
    console.log(
      `   ${STREAMS} portfolios in parallel: ${STREAMS * perStream * BATCH} trades in ${(parallelMs / 1000).toFixed(2)} s = ${parallelRate.toFixed(0)} trades/s`,
    );
    // The database's limit: the same rows by COPY into a table with the same keys, then also with
    // trades' foreign keys (each row checks its portfolio and instrument, as every trade insert does).
    const { ms: copyMs, how } = await copyBaseline(dataSource, book, all);
    const copyRate = all.length / (copyMs / 1000);
    console.log(
      `   ${how} ${all.length} rows into a table with the same keys: ${(copyMs / 1000).toFixed(2)} s = ${copyRate.toFixed(0)} rows/s`,
    );
    const { ms: fkMs } = await copyBaseline(dataSource, book, all, true);
    const fkRate = all.length / (fkMs / 1000);
    console.log(
      `   the same with trades' two foreign keys as well: ${(fkMs / 1000).toFixed(2)} s = ${fkRate.toFixed(0)} rows/s ` +
        `(ratio of one portfolio to it ${(sequentialRate / fkRate).toFixed(2)})`,
    );
    console.log(
      `   targets: one portfolio ${sequentialRate.toFixed(0)} >= 40000/s ${mark(sequentialRate >= 40_000)}; ` +
        `${STREAMS} portfolios ${parallelRate.toFixed(0)} >= 60000/s ${mark(parallelRate >= 60_000)}; ` +
        `ratio to COPY ${(sequentialRate / copyRate).toFixed(2)} >= 0.25 ${mark(sequentialRate / copyRate >= 0.25)}`,
    );
    rssAfterIngest = rssMb();

    // 2. One batch executed before all of the history: its symbols are recomputed from history.
    const early = makeTrades(BATCH, 0, 'EARLY', START - BATCH * 1000 - 86_400_000).map((t) => ({
      ...t,
      side: 'buy' as const,
    }));
    const t2 = performance.now();
    ok(await call('POST', `/api/v1/portfolios/${book}/trades/bulk`, { trades: early }, token), 'early batch');
    console.log(
      `\n2. Out-of-order batch of ${BATCH} (recomputes ${SYMBOL_COUNT} symbols over ${BATCHES * BATCH} trades): ${(performance.now() - t2).toFixed(0)} ms`,
    );

    // Prices for every symbol, so positions are valued.
    ok(
      await call(
        'POST',
        '/api/v1/prices/bulk',
        { prices: SYMBOLS.map((symbol, i) => ({ symbol, price: `${150 + i}.5`, asOf: new Date().toISOString() })) },
        token,
      ),
      'prices',
    );

    // 3. Positions of the portfolio holding every trade.
    const n = Number(
      (await dataSource.query<{ n: string }[]>('SELECT count(*) AS n FROM trades WHERE portfolio_id = $1', [book]))[0]
        .n,
    );
    const path = `/api/v1/portfolios/${book}/positions`;
    const measure = async (p: string, count: number): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < count; i++) {
        const s = performance.now();
        const res = await call('GET', p, undefined, token);
        times.push(performance.now() - s);
        ok(res, p);
      }
      return times;
    };
    await measure(path, Math.min(200, READS));
    console.log(`\n3. GET positions of a portfolio holding ${n} trades (${SYMBOL_COUNT} positions):`);
    console.log(latencyLine('   sequential', await measure(path, READS)));
    const concurrent: number[] = [];
    const t3 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        concurrent.push(...(await measure(path, Math.ceil(READS / CONCURRENCY))));
      }),
    );
    console.log(latencyLine(`   ${CONCURRENCY} concurrent clients`, concurrent, performance.now() - t3));

    // 4. asOf: from the latest snapshot before the moment, replaying fewer than 64 trades per symbol.
    const span = BATCHES * BATCH * 1000;
    const asOfAt = (i: number): string =>
      `${path}?asOf=${encodeURIComponent(new Date(START + Math.floor((((i * 7919) % 1000) / 1000) * span)).toISOString())}`;
    await measure(asOfAt(0), 5);
    console.log(`\n4. Others:`);
    const asOfTimes: number[] = [];
    for (let i = 0; i < AS_OF_READS; i++) asOfTimes.push(...(await measure(asOfAt(i), 1)));
    console.log(latencyLine(`   positions ?asOf= (${AS_OF_READS} moments)`, asOfTimes));
    // GET /me alone, then while eight clients keep calling asOf.
    await measure('/api/v1/me', 20);
    console.log(latencyLine('   GET /me, idle', await measure('/api/v1/me', ME_READS)));
    let loading = true;
    const loadTimes: number[] = [];
    const load = Array.from({ length: 8 }, async (_, c) => {
      for (let i = c; loading; i += 8) loadTimes.push(...(await measure(asOfAt(i), 1)));
    });
    const meUnderLoad = await measure('/api/v1/me', ME_READS);
    loading = false;
    await Promise.all(load);
    console.log(latencyLine('   GET /me while 8 parallel asOf clients run', meUnderLoad));
    console.log(latencyLine('   those asOf calls', loadTimes));
    const p99 = (ms: number[]): number =>
      percentile(
        [...ms].sort((a, b) => a - b),
        99,
      );
    if (asOfTimes.length > 0) {
      console.log(`   targets: asOf p99 ${p99(asOfTimes).toFixed(1)} ms < 50 ms ${mark(p99(asOfTimes) < 50)}`);
    }
    const v2 = `/api/v2/portfolios/${book}`;
    await measure(v2, 50);
    console.log(latencyLine('   GET /api/v2/portfolios/:id', await measure(v2, Math.min(500, READS))));
    console.log(
      `\nResident memory (RSS) of this process, the app and the load client together: idle after start ` +
        `${rssIdle.toFixed(0)} MB, after ingestion ${rssAfterIngest?.toFixed(0) ?? 'n/a'} MB, at the end ${rssMb().toFixed(0)} MB ` +
        `(the client holds the ${BATCHES * BATCH * 2} trades it sent; bench:auth measures a server process alone)`,
    );
    console.log(`Load average at the end: ${loadavg()[0].toFixed(2)} (the client runs in this process too)`);
  } finally {
    agent.destroy();
    await app.close();
    if (embedded) await embedded.stop();
    else await withServer((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
