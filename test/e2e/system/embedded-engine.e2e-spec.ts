import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { lockDataDir, processInfo } from '../../../src/common/database/data-dir-lock';
import { EmbeddedDatabase } from '../../../src/common/database/embedded-database';
import { waitUntil } from '../support/own-services';

/** Inodes of the TCP sockets this process is listening on (Linux /proc). */
function listeningTcpInodes(): Set<string> {
  const mine = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) mine.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const listening = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && mine.has(cols[9])) listening.add(cols[9]); // 0A: LISTEN
    }
  }
  return listening;
}

describe('embedded engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-engine-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is served on a Unix socket in a 0700 directory, with no TCP port, off the main thread', async () => {
    const before = listeningTcpInodes();
    const engine = await EmbeddedDatabase.start(join(dir, 'pgdata'));
    try {
      expect(listeningTcpInodes()).toEqual(before);
      expect(engine.url).toContain(`host=${encodeURIComponent(join(dir, 'run'))}`);
      expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'run', '.s.PGSQL.5432')).isSocket()).toBe(true);

      const client = new Client({ connectionString: engine.url });
      await client.connect();
      // A long query runs in the engine's thread: this thread's timers keep firing meanwhile.
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 10);
      const started = Date.now();
      await client.query('SELECT count(*) FROM generate_series(1, 3000000)');
      clearInterval(ticker);
      const elapsed = Date.now() - started;
      if (elapsed > 200) expect(ticks).toBeGreaterThan(elapsed / 10 / 4);
      // The one connection is refused a twin: PGlite is single-user.
      const second = new Client({ connectionString: engine.url });
      second.on('error', () => undefined);
      await expect(second.connect().then(() => second.query('SELECT 1'))).rejects.toBeDefined();
      await second.end().catch(() => undefined);
      await client.end();
    } finally {
      await engine.stop();
    }
  }, 60_000);
});

describe('data directory lock', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'bastion-lock-'));
    dirs.push(d);
    return d;
  };
  const sleeper = (script = 'exec sleep 60'): ChildProcess => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    return child;
  };
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a second live holder', () => {
    const d = fresh();
    const holder = sleeper();
    const info = processInfo(holder.pid!)!;
    writeFileSync(join(d, 'bastion.lock'), JSON.stringify({ pid: holder.pid, startTime: info.startTime }));
    expect(() => lockDataDir(d)).toThrow(/is in use by process \d+/);
  });

  it('takes over a lock whose PID now belongs to an unrelated process (PID reuse)', () => {
    const d = fresh();
    const unrelated = sleeper();
    // Same PID, another start time: the process that wrote the lock is gone.
    writeFileSync(join(d, 'bastion.lock'), JSON.stringify({ pid: unrelated.pid, startTime: '1' }));
    const release = lockDataDir(d);
    expect(JSON.parse(readFileSync(join(d, 'bastion.lock'), 'utf8')).pid).toBe(process.pid);
    release();
  });

  it('takes over a lock held by a zombie', async () => {
    const d = fresh();
    // `sleep 0` exits and is never reaped by the `sleep 60` that replaced its parent shell.
    const parent = sleeper('sleep 0 & echo $!; exec sleep 60');
    const zombiePid = await new Promise<number>((resolve) =>
      parent.stdout!.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))),
    );
    await waitUntil(async () => processInfo(zombiePid)?.state === 'Z', 5000, 'a zombie');
    writeFileSync(
      join(d, 'bastion.lock'),
      JSON.stringify({ pid: zombiePid, startTime: processInfo(zombiePid)!.startTime }),
    );
    const release = lockDataDir(d);
    release();
  });

  it('takes over a lock in the old format (bare PID) of a process that no longer runs', async () => {
    const d = fresh();
    const gone = sleeper('exit 0');
    await new Promise((r) => gone.once('exit', r));
    writeFileSync(join(d, 'bastion.lock'), String(gone.pid));
    lockDataDir(d)();
  });
});
