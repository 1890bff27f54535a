import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The real process, as an operator runs it: `node src/main.ts` on an embedded database in a data
 * directory of its own. Signals, restarts and a crash are exercised for real.
 */
const ROOT = join(__dirname, '..', '..', '..');

interface Running {
  child: ChildProcess;
  url: string;
  exit: Promise<number | null>;
  output: () => string;
}

function start(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SWC_NODE_PROJECT: 'tsconfig.json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1], exit, output: () => out });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exit.then((code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
}

async function ready(url: string): Promise<number> {
  return (await fetch(`${url}/health/ready`)).status;
}

describe('process lifecycle (embedded mode)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-lifecycle-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on an empty data directory, survives SIGKILL, and stops cleanly on SIGTERM', async () => {
    const first = await start(dataDir);
    expect(await ready(first.url)).toBe(200);
    const secrets = readFileSync(join(dataDir, 'secrets.json'), 'utf8');
    expect(existsSync(join(dataDir, 'pgdata', 'PG_VERSION'))).toBe(true);

    // The first administrator is created and its password shown once, on the console only, and
    // only once the server listens (a start that fails later shows no password for nothing).
    for (let i = 0; i < 100 && !first.output().includes('Sign in and change it'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(first.output()).toContain(`first administrator of ${first.url}`); // the URL exists only once listening
    expect(first.output().indexOf('listening on')).toBeLessThan(first.output().indexOf('password: '));
    const password = /password: (\S+)/.exec(first.output())?.[1];
    expect(first.output()).toContain('admin@localhost');
    const signIn = await fetch(`${first.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'admin@localhost', password }),
    });
    expect(signIn.status).toBe(200);
    const logLines = first
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(logLines.some((l) => l.includes(password!))).toBe(false);

    // A second process on the same data directory is refused while the first runs.
    const intruder = await start(dataDir).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(intruder).toMatch(/exited with 1[\s\S]*is in use by process/);

    // Crash: no shutdown code runs, the lock file stays behind.
    first.child.kill('SIGKILL');
    await first.exit;

    const second = await start(dataDir);
    expect(await ready(second.url)).toBe(200);
    expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toBe(secrets); // same keys after restart

    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    expect(second.output()).toContain('SIGTERM received');
    expect(existsSync(join(dataDir, 'bastion.lock'))).toBe(false);
  }, 120_000);
});
