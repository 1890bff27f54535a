import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { Keyring } from '../../../src/security/crypto/keyring';
import { MasterKeyring } from '../../../src/security/keys/master-keyring';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login, type Tokens } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/* An independent TOTP (RFC 6238) on node:crypto, as in mfa.e2e-spec.ts. */
function base32Bytes(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of text.replace(/=+$/, '')) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}
function totp(secret: string, step: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Bytes(secret)).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}
const stepNow = (): number => Math.floor(Date.now() / 1000 / 30);

interface MfaUser {
  id: string;
  email: string;
  password: string;
  secret: string;
  step: number;
}

const run = promisify(execFile);
const cluster = Boolean(process.env.DATABASE_URL);

/*
 * Master-key rotation while servers run. Cluster mode only: it needs several processes on one
 * database (two app instances and the CLI). In embedded mode one process owns DATA_DIR, so the CLI
 * runs with the server stopped; that path is the same MasterKeyService.rotate().
 */
(cluster ? describe : describe.skip)('Master-key rotation with the servers running (cluster mode)', () => {
  const keyA = randomBytes(32).toString('base64url');
  const keyB = randomBytes(32).toString('base64url');
  let first: TestApp;
  let rolled: TestApp | undefined;
  let fresh: TestApp | undefined;
  let root: Tokens;
  const users: MfaUser[] = [];

  beforeAll(async () => {
    first = await startTestApp({ ...BOOTSTRAP_ENV, MASTER_KEY: keyA });
    root = await login(first, ADMIN_EMAIL, ADMIN_PASSWORD);
    for (let i = 0; i < 4; i++) {
      const u = await createUser(first, root, ['trader']);
      const enrol = await first.http.post('/api/v1/me/mfa/totp').set(bearer(u.tokens));
      const step = stepNow();
      const activate = await first.http
        .post('/api/v1/me/mfa/totp/activate')
        .set(bearer(u.tokens))
        .send({ code: totp(enrol.body.secret, step) });
      expect(activate.status).toBe(200);
      users.push({ id: u.id, email: u.email, password: u.password, secret: enrol.body.secret, step });
    }
  }, 120_000);
  afterAll(async () => {
    await fresh?.close();
    await rolled?.close();
    await first?.close();
  });

  const db = (): DataSource => first.app.get(DataSource);

  async function totpLogin(t: TestApp, u: MfaUser): Promise<number> {
    const password = await t.http.post('/api/v1/auth/login').send({ email: u.email, password: u.password });
    expect(password.body.mfaRequired).toBe(true);
    // Each code works once and only one step of drift is allowed: a user's next code is the next
    // step, which may have to come round first (a bounded wait of at most one 30-second step).
    u.step = Math.max(u.step + 1, stepNow() - 1);
    while (u.step > stepNow() + 1) await new Promise((r) => setTimeout(r, 250));
    const res = await t.http
      .post('/api/v1/auth/mfa/verify')
      .send({ mfaToken: password.body.mfaToken, code: totp(u.secret, u.step) });
    return res.status;
  }

  it('stores TOTP secrets under bastion-totp, with key material wrapped by master key A', async () => {
    const rows = await db().query<{ secret_enc: string }[]>('SELECT secret_enc FROM mfa_totp');
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r.secret_enc).toMatch(/^bastion:v1:/);
    const kids = await db().query<{ master_kid: string }[]>('SELECT DISTINCT master_kid FROM key_versions');
    expect(kids).toEqual([{ master_kid: MasterKeyring.kidOf(Buffer.from(keyA, 'base64url')) }]);
    const detail = await first.http.get('/api/v1/security/keys/bastion-totp').set(bearer(root));
    expect(detail.body.protectedData).toEqual({ '1': 4 });
  });

  it('migrates a TOTP secret written before key management when an instance starts', async () => {
    // User 4's secret as the previous release stored it: `v1:…` under HKDF(MASTER_KEY, bastion/totp/v1).
    const legacy = new Keyring([{ version: 1, material: Buffer.from(keyA, 'base64url') }], 1).seal(
      'totp',
      Buffer.from(users[3].secret),
      users[3].id,
    );
    await db().query('UPDATE mfa_totp SET secret_enc = $2 WHERE user_id = $1', [users[3].id, legacy]);

    // Step 1 of the procedure: an instance rolled out with the new key, the former one as previous.
    rolled = await startTestApp({ MASTER_KEY: keyB, MASTER_KEY_PREVIOUS: keyA }, { shareDatabaseOf: first });
    const [row] = await db().query<{ secret_enc: string }[]>('SELECT secret_enc FROM mfa_totp WHERE user_id = $1', [
      users[3].id,
    ]);
    expect(row.secret_enc).toMatch(/^bastion:v1:/);
    const audit = await db().query<{ n: string }[]>(
      `SELECT count(*) AS n FROM audit_events WHERE action = 'mfa.totp_secrets_migrated'`,
    );
    expect(Number(audit[0].n)).toBe(1);
  }, 120_000);

  it('rotate-master-key rewraps everything in one transaction while both instances serve TOTP logins', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bastion-cli-'));
    try {
      const cli = run(process.execPath, ['-r', '@swc-node/register', 'src/cli/main.ts', 'rotate-master-key'], {
        cwd: resolve(__dirname, '../../..'),
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          DATA_DIR: dataDir,
          DATABASE_URL: first.database.url,
          JWT_SECRET: randomBytes(32).toString('base64url'),
          MASTER_KEY: keyB,
          MASTER_KEY_PREVIOUS: keyA,
        },
        timeout: 120_000,
      });
      // Logins while the command runs, on the instance that only knows A.
      expect(await totpLogin(first, users[0])).toBe(200);
      const { stdout } = await cli;
      expect(stdout).toMatch(/rewrapped \d+ key version\(s\)/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const kidB = MasterKeyring.kidOf(Buffer.from(keyB, 'base64url'));
    expect(await db().query('SELECT DISTINCT master_kid FROM key_versions')).toEqual([{ master_kid: kidB }]);
    expect(await db().query('SELECT kid FROM key_master')).toEqual([{ kid: kidB }]);
    const audit = await db().query<{ details: { rewrapped: number } }[]>(
      `SELECT details FROM audit_events WHERE action = 'master_key.rotated'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0].details.rewrapped).toBeGreaterThanOrEqual(2);

    // Both running instances keep serving TOTP logins.
    expect(await totpLogin(first, users[1])).toBe(200);
    expect(await totpLogin(rolled!, users[2])).toBe(200);
  }, 180_000);

  it('an instance still on the old key keeps serving but refuses to wrap new material; a new one needs only the new key', async () => {
    const refused = await first.http
      .post('/api/v1/security/keys')
      .set(bearer(root))
      .send({ name: 'after-rotation', type: 'hmac' });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('MASTER_KEY_UNAVAILABLE');
    expect(JSON.stringify(refused.body)).not.toContain(keyA);

    fresh = await startTestApp({ MASTER_KEY: keyB }, { shareDatabaseOf: first });
    for (const u of users) expect(await totpLogin(fresh, u)).toBe(200);
    const rootB = await login(fresh, ADMIN_EMAIL, ADMIN_PASSWORD);
    const created = await fresh.http
      .post('/api/v1/security/keys')
      .set(bearer(rootB))
      .send({ name: 'after-rotation', type: 'hmac' });
    expect(created.status).toBe(201);
  }, 120_000);
});
