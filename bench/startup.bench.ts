/**
 * Time from process start to the first 200 from /health/ready, in both runtime modes, for the
 * built app (`node dist/src/main.js`, what production runs).
 *
 *   npm run bench:startup                       # RUNS=5 by default
 *   DATABASE_URL=postgres://... npm run bench:startup   # cluster server to use (default: local)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 5);
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function timeToReady(env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  for (;;) {
    const res = await fetch(`${url}/health/ready`).catch(() => undefined);
    if (res?.status === 200) break;
  }
  const elapsed = performance.now() - t0;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
  return elapsed;
}

function summary(label: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `${label.padEnd(36)} median ${median.toFixed(0).padStart(5)} ms   min ${sorted[0].toFixed(0).padStart(5)} ms   max ${sorted[sorted.length - 1].toFixed(0).padStart(5)} ms   (n=${ms.length})`,
  );
}

async function main(): Promise<void> {
  const firstStart: number[] = [];
  const restart: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-'));
    firstStart.push(await timeToReady({ DATA_DIR: dir }));
    restart.push(await timeToReady({ DATA_DIR: dir }));
    rmSync(dir, { recursive: true, force: true });
  }

  const cluster: number[] = [];
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  for (let i = 0; i < RUNS; i++) {
    const name = `bastion_bench_${process.pid}_${i}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(SERVER_URL);
    url.pathname = `/${name}`;
    const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-'));
    try {
      cluster.push(await timeToReady({ DATA_DIR: dir, DATABASE_URL: url.toString() }));
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await admin.end();

  console.log(`start → /health/ready 200, built app, Node ${process.version}`);
  summary('embedded, empty data dir (initdb)', firstStart);
  summary('embedded, existing data dir', restart);
  summary('cluster, fresh PostgreSQL database', cluster);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
