import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, type ServerProcess, startServer } from './server-process';

export const ROOT = join(__dirname, '..', '..');
export const ADMIN = { email: 'root@example.com', password: 'Correct-Horse-Battery-9' };
/** Rate limits high enough never to refuse: their checks still run, so their cost is measured. */
export const UNLIMITED = String(1_000_000_000);

/**
 * Node's flags from `npm run start:prod` (`node <flags> dist/src/main.js`), so benchmarks run the
 * server exactly as production starts it.
 */
const START_FLAGS: string[] = (() => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const match = /^node ((?:--\S+ )*)dist\/src\/main\.js$/.exec(pkg.scripts['start:prod']);
  if (!match)
    throw new Error(`package.json start:prod is not "node [flags] dist/src/main.js": ${pkg.scripts['start:prod']}`);
  return match[1].trim().split(' ').filter(Boolean);
})();

/**
 * Starts the built app (`dist/src/main.js`) in cluster mode on `dbUrl`, as production runs it:
 * NODE_ENV=production with fresh secrets, the bootstrap admin above, warn-level logs and every rate
 * limit lifted. `env` adds or overrides settings.
 */
export async function startBastion(options: {
  /** PostgreSQL (cluster mode); undefined starts the embedded engine in `dataDir`. */
  dbUrl: string | undefined;
  dataDir: string;
  onSpawn: (s: ServerProcess) => void;
  env?: Record<string, string>;
  /** Node options before the script (`--cpu-prof`, `--cpu-prof-dir=...`). */
  nodeArgs?: string[];
  /** How long to wait for readiness (default 60 s; an embedded first start runs initdb). */
  timeoutMs?: number;
  /** Without the bootstrap admin (default with): nothing checks a password at start-up. */
  bootstrapAdmin?: boolean;
}): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: 'Bastion',
    cwd: ROOT,
    args: [...START_FLAGS, ...(options.nodeArgs ?? []), 'dist/src/main.js'],
    port,
    readyPath: '/health/ready',
    timeoutMs: options.timeoutMs,
    onSpawn: options.onSpawn,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATA_DIR: options.dataDir,
      ...(options.dbUrl ? { DATABASE_URL: options.dbUrl } : {}),
      JWT_SECRET: randomBytes(32).toString('base64'),
      MASTER_KEY: randomBytes(32).toString('base64'),
      ...(options.bootstrapAdmin === false
        ? {}
        : { BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password }),
      RATE_LIMIT_IP_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_AUTH_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_USER_PER_MINUTE: UNLIMITED,
      RATE_LIMIT_KEY_TIERS: `standard=${UNLIMITED},elevated=${UNLIMITED},bulk=${UNLIMITED}`,
      ...options.env,
    },
  });
}

/** A non-negative integer setting from the environment, or the fallback. */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return value;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the app when dist is missing or older than any file under src. */
export function ensureBuilt(): void {
  const main = join(ROOT, 'dist/src/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  console.log('dist is missing or older than src: npm run build');
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.status ?? build.signal})`);
}

/** One JSON request during set-up; anything but the expected status stops the benchmark. */
export async function call<T>(
  method: 'GET' | 'POST',
  url: string,
  expected: number,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  if (res.status !== expected)
    throw new Error(`${method} ${url} answered ${res.status}, expected ${expected}: ${text}`);
  return JSON.parse(text) as T;
}

export interface BenchDatabase {
  /** URL of the fresh database. */
  url: string;
  /** A data directory of the run's own. */
  dataDir: string;
  pgVersion: string;
  /** Registers a server process so cleanup stops it. */
  track(server: ServerProcess): void;
  /** Stops tracked servers, drops the database, removes the data directory; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * A fresh database `bastion_bench_<label>_<pid>` on `serverUrl` and a temporary data directory,
 * cleaned up by `cleanup()`, also on SIGINT and SIGTERM.
 */
export async function openBenchDatabase(label: string, serverUrl: string): Promise<BenchDatabase> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const pgVersion = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
  const dbName = `bastion_bench_${label.replace(/-/g, '_')}_${process.pid}`;
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), `bastion-bench-${label}-`));

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
    await admin.query(`CREATE DATABASE ${dbName}`);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { url: url.toString(), dataDir, pgVersion, track: (s) => running.add(s), cleanup };
}
