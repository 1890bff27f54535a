/**
 * Live gateway delivery: CLIENTS socket.io clients (default 1,000) subscribed to one portfolio
 * channel while trades are posted over REST, against a bare socket.io server broadcasting the same
 * payload (bench/support/live-baseline-server.ts) in the same run.
 *
 *   npm run bench:live
 *   DATABASE_URL=postgres://user@host:5432/postgres CLIENTS=1000 ROUNDS=50 BURST=200 npm run bench:live
 *
 * Bastion runs built (`dist/src/main.js`, NODE_ENV=production) in its own process on a fresh
 * database of the PostgreSQL server at DATABASE_URL; the baseline in another process; the clients
 * in this one (all on one shared machine: the figures include the clients' own CPU).
 *  1. latency: ROUNDS trades, one at a time; for each, from the POST being acknowledged (its
 *     response received) to the last of the CLIENTS receiving the `trade` message (0 when every
 *     client had it before the response arrived), and from the POST being sent;
 *  2. throughput: BURST trades posted back to back (each POST after the previous answer), messages
 *     delivered per second over all clients, from the first POST to the last delivery.
 * Benchmarks print figures; they never fail on time.
 */
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { io, type Socket } from 'socket.io-client';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, ROOT, startBastion } from './support/bastion';
import { freePort, startServer } from './support/server-process';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLIENTS = intFromEnv('CLIENTS', 1000);
const ROUNDS = intFromEnv('ROUNDS', 50);
const BURST = intFromEnv('BURST', 200);

interface Target {
  name: string;
  /** Connects one client and subscribes it to the channel. */
  connect(): Promise<Socket>;
  /** Posts trade `n`; resolves with its id once the POST is answered. */
  post(n: number): Promise<string>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function connectAll(target: Target): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, CLIENTS - i) }, () => target.connect()));
    sockets.push(...batch);
  }
  return sockets;
}

/** Resolves when every socket has received the trade `id`; records when that happened. */
function delivery(sockets: Socket[], pending: Map<string, { left: number; done: (at: number) => void }>): void {
  for (const socket of sockets) {
    socket.on('trade', (m: { trades?: { externalId: string | null }[] }) => {
      const id = m.trades?.[0]?.externalId;
      const entry = id ? pending.get(id) : undefined;
      if (!entry) return;
      entry.left -= 1;
      if (entry.left === 0) {
        pending.delete(id!);
        entry.done(performance.now());
      }
    });
  }
}

async function measure(target: Target): Promise<Record<string, number>> {
  const connectStart = performance.now();
  const sockets = await connectAll(target);
  const connectMs = performance.now() - connectStart;
  const pending = new Map<string, { left: number; done: (at: number) => void }>();
  const waiting = new Map<string, Promise<number>>();
  delivery(sockets, pending);
  // Messages may arrive before the POST answers: they are matched on the externalId the bench
  // chose, registered before posting, so nothing is missed.
  const expect = (id: string): Promise<number> => {
    const p = new Promise<number>((resolve) => pending.set(id, { left: sockets.length, done: resolve }));
    waiting.set(id, p);
    return p;
  };

  const fromAck: number[] = [];
  const fromSend: number[] = [];
  for (let n = 0; n < ROUNDS; n++) {
    const id = `lat-${n}`;
    const all = expect(id);
    const sent = performance.now();
    await target.post(n);
    const acked = performance.now();
    const last = await all;
    fromAck.push(Math.max(0, last - acked));
    fromSend.push(last - sent);
  }
  fromAck.sort((a, b) => a - b);
  fromSend.sort((a, b) => a - b);

  const burstDone: Promise<number>[] = [];
  const burstStart = performance.now();
  for (let n = 0; n < BURST; n++) {
    burstDone.push(expect(`burst-${n}`));
    await target.post(ROUNDS + n);
  }
  const lastDelivery = Math.max(...(await Promise.all(burstDone)));
  const seconds = (lastDelivery - burstStart) / 1000;
  for (const s of sockets) s.close();
  return {
    connectMs,
    p50: percentile(fromAck, 50),
    p99: percentile(fromAck, 99),
    sendP50: percentile(fromSend, 50),
    sendP99: percentile(fromSend, 99),
    msgsPerSecond: (BURST * CLIENTS) / seconds,
    tradesPerSecond: BURST / seconds,
  };
}

const idOf = (n: number): string => (n < ROUNDS ? `lat-${n}` : `burst-${n - ROUNDS}`);

async function main(): Promise<void> {
  ensureBuilt();
  console.log(
    `bench:live: ${CLIENTS} clients, ${ROUNDS} latency rounds, bursts of ${BURST} trades; ${availableParallelism()} CPUs, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const db = await openBenchDatabase('live', SERVER_URL);
  try {
    const bastion = await startBastion({ dbUrl: db.url, dataDir: db.dataDir, onSpawn: (s) => db.track(s) });
    const root = await call<{ accessToken: string }>('POST', `${bastion.url}/api/v1/auth/login`, 200, { body: ADMIN });
    const auth = { authorization: `Bearer ${root.accessToken}` };
    const password = 'Quiet-Orchard-Bench-Lantern';
    await call('POST', `${bastion.url}/api/v1/users`, 201, {
      headers: auth,
      body: { email: 'trader@example.com', password, firstName: 'Dana', lastName: 'Lee', roles: ['trader'] },
    });
    const trader = await call<{ accessToken: string }>('POST', `${bastion.url}/api/v1/auth/login`, 200, {
      body: { email: 'trader@example.com', password },
    });
    const headers = { authorization: `Bearer ${trader.accessToken}` };
    const portfolio = await call<{ id: string }>('POST', `${bastion.url}/api/v1/portfolios`, 201, {
      headers,
      body: { name: 'Bench book', baseCurrency: 'USD' },
    });
    const channel = `portfolio:${portfolio.id}`;
    const trade = (n: number) => ({
      symbol: 'ACME',
      side: 'buy',
      quantity: '1',
      price: '10.5',
      executedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
      externalId: idOf(n),
    });

    const subscribe = async (url: string, auth?: Record<string, string>): Promise<Socket> => {
      const socket = io(`${url}/live`, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const ack = (await socket.timeout(30_000).emitWithAck('subscribe', { channel })) as { ok: boolean };
      if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
      return socket;
    };

    const bastionTarget: Target = {
      name: 'Bastion',
      connect: () => subscribe(bastion.url, { token: trader.accessToken }),
      post: async (n) => {
        await call('POST', `${bastion.url}/api/v1/portfolios/${portfolio.id}/trades`, 201, { headers, body: trade(n) });
        return idOf(n);
      },
    };
    const bastionFigures = await measure(bastionTarget);

    const port = await freePort();
    const baseline = await startServer({
      name: 'live-baseline',
      cwd: ROOT,
      args: ['-r', '@swc-node/register', join('bench', 'support', 'live-baseline-server.ts')],
      env: { HOST: '127.0.0.1', PORT: String(port) },
      port,
      readyPath: '/health',
      onSpawn: (s) => db.track(s),
    });
    const baselineTarget: Target = {
      name: 'baseline',
      connect: () => subscribe(baseline.url),
      post: async (n) => {
        // The same message Bastion sends, so the bytes on the wire are alike.
        const t = trade(n);
        const payload = {
          channel,
          portfolioId: portfolio.id,
          count: 1,
          symbols: ['ACME'],
          trades: [{ id: portfolio.id, ...t }],
          truncated: false,
          recordedBy: portfolio.id,
          at: new Date().toISOString(),
        };
        await call('POST', `${baseline.url}/publish/${encodeURIComponent(channel)}`, 201, { body: payload });
        return idOf(n);
      },
    };
    const baselineFigures = await measure(baselineTarget);

    const rows: [string, (f: Record<string, number>) => string][] = [
      ['connect + subscribe all clients (s)', (f) => (f.connectMs / 1000).toFixed(1)],
      ['latency POST acknowledged → last client, p50 (ms)', (f) => f.p50.toFixed(1)],
      ['latency POST acknowledged → last client, p99 (ms)', (f) => f.p99.toFixed(1)],
      ['latency POST sent → last client, p50 (ms)', (f) => f.sendP50.toFixed(1)],
      ['latency POST sent → last client, p99 (ms)', (f) => f.sendP99.toFixed(1)],
      ['messages delivered per second (burst)', (f) => f.msgsPerSecond.toFixed(0)],
      ['trades per second (burst, one POST after the other)', (f) => f.tradesPerSecond.toFixed(1)],
    ];
    console.log(`\n| ${CLIENTS} clients on one portfolio channel | Bastion | bare socket.io |`);
    console.log('|---|---|---|');
    for (const [label, format] of rows)
      console.log(`| ${label} | ${format(bastionFigures)} | ${format(baselineFigures)} |`);
  } finally {
    await db.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
