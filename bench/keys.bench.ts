/**
 * Batch encryption through named keys against node:crypto doing the same work in a loop, in one run.
 *
 *   npm run bench:keys
 *   DATABASE_URL=postgres://... BENCH_REQUESTS=40 BENCH_CONCURRENCY=2 BENCH_ITEM_BYTES=64 npm run bench:keys
 *
 * Bastion: the built app in cluster mode on a fresh database, an aes256-gcm key, and
 * BENCH_REQUESTS requests of `POST /api/v1/security/keys/:name/encrypt/bulk` with 1,000 items of
 * BENCH_ITEM_BYTES random bytes each (base64 in JSON, with a 16-byte context), BENCH_CONCURRENCY
 * at a time. Baseline: this process encrypting the same number of items with node:crypto
 * (AES-256-GCM, a random 12-byte nonce each, the context as AAD, output as base64 in
 * `bastion:v1:` form): the cryptographic floor, without HTTP, JSON, validation, authorization or
 * counting. The ratio says what the service costs on top of the cipher. Figures only.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { ADMIN, call, ensureBuilt, intFromEnv, openBenchDatabase, startBastion } from './support/bastion';

const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUESTS = Math.max(1, intFromEnv('BENCH_REQUESTS', 30));
const CONCURRENCY = Math.max(1, intFromEnv('BENCH_CONCURRENCY', 2));
const ITEM_BYTES = Math.max(1, intFromEnv('BENCH_ITEM_BYTES', 64));
const BATCH = 1000;

interface Item {
  plaintext: string;
  context: string;
}

function makeItems(): Item[] {
  return Array.from({ length: BATCH }, () => ({
    plaintext: randomBytes(ITEM_BYTES).toString('base64'),
    context: randomBytes(16).toString('base64'),
  }));
}

function baseline(items: Item[], rounds: number): { seconds: number; count: number } {
  const key = randomBytes(32);
  let sink = 0;
  const started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const item of items) {
      const plaintext = Buffer.from(item.plaintext, 'base64');
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(item.context, 'base64'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const out = `bastion:v1:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')}`;
      sink += out.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink === 0) throw new Error('unreachable');
  return { seconds, count: rounds * items.length };
}

async function main(): Promise<void> {
  ensureBuilt();
  const db = await openBenchDatabase('keys', SERVER_URL);
  try {
    const server = await startBastion({ dbUrl: db.url, dataDir: db.dataDir, onSpawn: db.track });
    const api = `${server.url}/api/v1`;
    const { accessToken } = await call<{ accessToken: string }>('POST', `${api}/auth/login`, 200, { body: ADMIN });
    const headers = { authorization: `Bearer ${accessToken}` };
    await call('POST', `${api}/security/keys`, 201, {
      headers,
      body: { name: 'bench', type: 'aes256-gcm', grants: [{ subjectType: 'role', subject: 'super_admin' }] },
    });
    const items = makeItems();
    const body = JSON.stringify({ items });
    const encrypt = async (): Promise<void> => {
      const res = await fetch(`${api}/security/keys/bench/encrypt/bulk`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      const json = (await res.json()) as { errors: number; results: unknown[] };
      if (res.status !== 200 || json.errors !== 0 || json.results.length !== BATCH) {
        throw new Error(`encrypt/bulk answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
      }
    };
    // Warm-up: JIT, the key's unwrapped material, the connection pool.
    for (let i = 0; i < 3; i++) await encrypt();

    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          next++;
          const t0 = process.hrtime.bigint();
          await encrypt();
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await server.stop();

    baseline(items, 3); // warm-up
    const base = baseline(items, REQUESTS);
    latencies.sort((a, b) => a - b);
    const bastionRate = (REQUESTS * BATCH) / seconds;
    const baseRate = base.count / base.seconds;
    console.log(
      `\nmachine: ${availableParallelism()} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (shared), PostgreSQL ${db.pgVersion}, Node ${process.version}`,
    );
    console.log(`${REQUESTS} requests × ${BATCH} items of ${ITEM_BYTES} bytes, ${CONCURRENCY} at a time`);
    console.log(
      `Bastion  encrypt/bulk: ${bastionRate.toFixed(0).padStart(9)} items/s  (p50 ${latencies[Math.floor(latencies.length / 2)].toFixed(0)} ms, max ${latencies[latencies.length - 1].toFixed(0)} ms per request)`,
    );
    console.log(`node:crypto loop     : ${baseRate.toFixed(0).padStart(9)} items/s`);
    console.log(
      `ratio Bastion / node:crypto: ${(bastionRate / baseRate).toFixed(3)} (${(baseRate / bastionRate).toFixed(1)}x slower)`,
    );
  } finally {
    await db.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
