import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Graceful shutdown as a supervisor sees it: a request still running when SHUTDOWN_TIMEOUT_MS
 * ends is cut, its transaction rolls back, and the exit code (3) says so.
 */
const ROOT = join(__dirname, '..', '..', '..');
const ADMIN = { email: 'root@example.com', password: 'Correct-Horse-Battery-9' };

function start(
  dataDir: string,
): Promise<{ child: ChildProcess; url: string; output: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      SWC_NODE_PROJECT: 'tsconfig.json',
      SHUTDOWN_TIMEOUT_MS: '300',
      BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_USER_PER_MINUTE: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1], output: () => out, exit });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exit.then((code) => reject(new Error(`exited with ${code} before listening:\n${out}`)));
  });
}

interface Reply {
  accessToken?: string;
  id?: string;
  items?: unknown[];
}

async function json(
  url: string,
  method: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Reply }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Reply };
}

describe('graceful shutdown (embedded mode)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bastion-shutdown-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('cuts a request still running at the timeout, rolls it back and exits with 3', async () => {
    const first = await start(dataDir);
    const token = (await json(`${first.url}/api/v1/auth/login`, 'POST', ADMIN)).body.accessToken as string;
    const portfolio = (
      await json(`${first.url}/api/v1/portfolios`, 'POST', { name: 'Cut', baseCurrency: 'USD' }, token)
    ).body.id as string;
    const trades = Array.from({ length: 10_000 }, (_, n) => ({
      symbol: `S${n % 20}`,
      side: 'buy',
      quantity: '1',
      price: '10',
      executedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    }));
    const bulk = json(`${first.url}/api/v1/portfolios/${portfolio}/trades/bulk`, 'POST', { trades }, token).catch(
      (): { status: number; body: Reply } => ({ status: 0, body: {} }),
    );
    await new Promise((r) => setTimeout(r, 300)); // the bulk is being processed
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(3);
    expect(first.output()).toMatch(/request\(s\) still running after SHUTDOWN_TIMEOUT_MS=300 ms were cut/);
    expect((await bulk).status).not.toBe(201);

    const second = await start(dataDir);
    const token2 = (await json(`${second.url}/api/v1/auth/login`, 'POST', ADMIN)).body.accessToken as string;
    const list = await json(`${second.url}/api/v1/portfolios/${portfolio}/trades?limit=10`, 'GET', undefined, token2);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(0); // nothing of the cut bulk was kept
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 240_000);
});
