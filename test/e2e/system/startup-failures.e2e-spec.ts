import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { Client } from 'pg';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, postgresBinDir, startOwnPostgres, type OwnPostgres } from '../support/own-services';

/**
 * Start-up as an operator meets it: the real `src/main.ts` with a broken setting, an unreachable
 * database, a read-only or full data directory. Each failure must be one clear line on stderr
 * (plus one JSON log entry) naming what failed, the setting or path, and what to do; no stack.
 */
const ROOT = join(__dirname, '..', '..', '..');
const SECRETS = { JWT_SECRET: randomBytes(32).toString('base64'), MASTER_KEY: randomBytes(32).toString('base64') };

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  child: ChildProcess;
}

/** Runs main.ts until it exits, or until `until` matches its output (then it is left running). */
function run(env: Record<string, string>, until?: RegExp): Promise<Outcome> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', SWC_NODE_PROJECT: 'tsconfig.json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve) => {
    const check = (): void => {
      if (until && until.test(stdout + stderr)) resolve({ code: null, stdout, stderr, child });
    };
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      check();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      check();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr, child }));
  });
}

/** The failure is told once, clearly, without stack traces or colour codes. */
function expectOneClearLine(outcome: Outcome, pattern: RegExp): Record<string, unknown> {
  expect(outcome.code).toBe(1);
  const lines = outcome.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^Bastion failed to start: /);
  expect(lines[0]).toMatch(pattern);
  const all = outcome.stdout + outcome.stderr;
  expect(all).not.toMatch(/^\s+at /m); // no stack trace
  expect(all).not.toContain('\u001b['); // no colour codes
  expect(all).not.toContain('[object Object]');
  const entries = outcome.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.level === 60);
  expect(entries).toHaveLength(1);
  expect(entries[0].msg).toBe(lines[0]);
  return entries[0];
}

const canMount = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const dir = mkdtempSync(join(tmpdir(), 'bastion-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();
const itWithMount = canMount ? it : it.skip;

describe('start-up failures', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'bastion-startup-'));
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  it('retries an unreachable PostgreSQL with backoff, one line per attempt, then says what to do', async () => {
    const port = await freePort();
    const dataDir = join(scratch, 'never-created');
    const outcome = await run({
      ...SECRETS,
      DATA_DIR: dataDir,
      DATABASE_URL: `postgres://bastion:s3cret-pw@127.0.0.1:${port}/bastion`,
      DATABASE_CONNECT_TIMEOUT_SECONDS: '2',
    });
    const entry = expectOneClearLine(outcome, /cannot reach PostgreSQL at 127\.0\.0\.1:\d+\/bastion after \d+ attempt/);
    expect(entry).toMatchObject({
      setting: 'DATABASE_URL',
      hint: expect.stringContaining('DATABASE_CONNECT_TIMEOUT_SECONDS'),
    });
    const attempts = outcome.stdout.split('\n').filter((l) => l.includes('not reachable (attempt'));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(outcome.stdout + outcome.stderr).not.toContain('s3cret-pw');
    expect(existsSync(dataDir)).toBe(false); // cluster mode never needed it
  }, 60_000);

  it('names DATA_DIR when it is a file, not a directory', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    const outcome = await run({ DATA_DIR: file });
    const entry = expectOneClearLine(
      outcome,
      /data directory .*a-file: (a file is in the way|.*not a directory) \(DATA_DIR\): point DATA_DIR at a directory/,
    );
    expect(entry.setting).toBe('DATA_DIR');
  }, 60_000);

  // Tests run as root, which chmod does not stop: the data directory is a read-only bind mount.
  itWithMount(
    'names DATA_DIR when it is read-only',
    async () => {
      const dir = join(scratch, 'read-only');
      mkdirSync(dir);
      execFileSync('mount', ['--bind', dir, dir]);
      mounts.push(dir);
      execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
      const outcome = await run({ DATA_DIR: dir });
      expectOneClearLine(outcome, /data directory .*read-only.*\(DATA_DIR\): mount it read-write/);
    },
    60_000,
  );

  itWithMount(
    'names DATA_DIR when the disk is full',
    async () => {
      const dir = join(scratch, 'full');
      mkdirSync(dir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
      mounts.push(dir);
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=64k', 'count=64'], { stdio: 'ignore' });
      } catch {
        // dd stops with ENOSPC: the filesystem is full, as intended
      }
      const outcome = await run({ DATA_DIR: join(dir, 'data') });
      expectOneClearLine(outcome, /data directory .*the disk is full \(DATA_DIR\)/);
    },
    60_000,
  );

  it('refuses a BOOTSTRAP_ADMIN_PASSWORD that fails the password policy', async () => {
    const outcome = await run({
      DATA_DIR: join(scratch, 'weak-admin'),
      BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
      BOOTSTRAP_ADMIN_PASSWORD: 'password1234',
    });
    const entry = expectOneClearLine(outcome, /BOOTSTRAP_ADMIN_PASSWORD does not meet the password policy/);
    expect(entry.setting).toBe('BOOTSTRAP_ADMIN_PASSWORD');
    expect(outcome.stdout + outcome.stderr).not.toMatch(/password1234/);
  }, 120_000);
});

const describeCluster = process.env.DATABASE_URL || postgresBinDir() ? describe : describe.skip;

describeCluster('cluster mode from an empty folder', () => {
  let pg: OwnPostgres | undefined;
  let db: TestDatabase | undefined;
  let child: ChildProcess | undefined;
  const cwd = mkdtempSync(join(tmpdir(), 'bastion-empty-'));

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    pg?.destroy();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('starts, is ready and writes no data directory when nothing uses it', async () => {
    // A fresh database of its own on the server (never DATABASE_URL's own database, which other
    // runs may have filled with key material wrapped under another master key).
    db = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    let url = db?.url;
    if (!url) {
      pg = await startOwnPostgres();
      url = pg.url;
    }
    const dataDir = join(cwd, 'data');
    const outcome = await run(
      { ...SECRETS, NODE_ENV: 'production', DATABASE_URL: url, DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      /listening on (http:\/\/[\d.]+:\d+)/,
    );
    child = outcome.child;
    expect(outcome.code).toBeNull();
    const base = /listening on (http:\/\/[\d.]+:\d+)/.exec(outcome.stdout + outcome.stderr)![1];
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(existsSync(dataDir)).toBe(false);
  }, 120_000);
});

const describeServer = process.env.DATABASE_URL ? describe : describe.skip;

describeServer('start-up failures the database reports', () => {
  const role = `bastion_noperm_${randomBytes(4).toString('hex')}`;
  let db: TestDatabase | undefined;

  /** Runs statements as DATABASE_URL's (super)user on `url`. */
  const admin = async (url: string, ...sql: string[]): Promise<void> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      for (const statement of sql) await client.query(statement);
    } finally {
      await client.end();
    }
  };

  afterAll(async () => {
    await db?.drop();
    await admin(process.env.DATABASE_URL!, `DROP ROLE IF EXISTS ${role}`);
  });

  it('names DATABASE_URL and the privilege when the user may not create the tables', async () => {
    db = await createTestDatabase();
    // A user that may connect but owns nothing and may create nothing (PostgreSQL 15+ default for public).
    await admin(process.env.DATABASE_URL!, `CREATE ROLE ${role} LOGIN`);
    const name = new URL(db.url).pathname.slice(1);
    await admin(db.url, `REVOKE ALL ON SCHEMA public FROM PUBLIC`, `REVOKE CREATE ON DATABASE ${name} FROM PUBLIC`);
    const url = new URL(db.url);
    url.username = role;
    url.password = '';
    const outcome = await run({ ...SECRETS, DATABASE_URL: url.toString(), DATABASE_CONNECT_TIMEOUT_SECONDS: '0' });
    const entry = expectOneClearLine(
      outcome,
      /DATABASE_URL.*grant its user CREATE on the database and on schema public/,
    );
    expect(entry).toMatchObject({ setting: 'DATABASE_URL' });
    expect(String(entry.what)).toMatch(/SQLSTATE (3F000|42501)/);
  }, 120_000);
});
