/**
 * The yardstick for bench/auth.bench.ts: the least a Node server can do for the same two requests,
 * Express + jose + pg and nothing else (no logging, helmet, validation pipe, request ids, sessions,
 * audit or activity).
 *
 *   POST /login {email, password}: one query (user + password hash by email), argon2id verify
 *     (@node-rs/argon2, parameters read from the stored hash, so the same as Bastion's), then an
 *     HS256 access token signed with jose.
 *   GET /me with Authorization: Bearer: jose verifies the token with the same checks as Bastion
 *     (HS256 pinned, issuer, audience, exp required, 5 s clock tolerance), then one one-row query
 *     (the user by id) and a JSON answer.
 *   GET /portfolios with Authorization: Bearer: the same token check, then one query (the caller's
 *     portfolios, first page of 50 by name) and `{items, nextCursor}`.
 *
 * It reads the tables Bastion's migrations created in the same database, through a pg Pool of
 * BASELINE_POOL_SIZE connections (Bastion's DATABASE_POOL_SIZE default, 10).
 *
 * Environment: DATABASE_URL (required), BASELINE_JWT_SECRET (base64, at least 32 bytes; required),
 * HOST (127.0.0.1), PORT (0), BASELINE_POOL_SIZE (10). Prints `listening on http://host:port`.
 */
import { createSecretKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { verify as argon2Verify } from '@node-rs/argon2';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { activeUser, bearerSubject } from './yardstick';

const ISSUER = 'bastion';
const AUDIENCE = 'bastion-api';
const TTL_SECONDS = 900;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const key = createSecretKey(Buffer.from(required('BASELINE_JWT_SECRET'), 'base64'));
const pool = new Pool({
  connectionString: required('DATABASE_URL'),
  max: Number(process.env.BASELINE_POOL_SIZE ?? 10),
});

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '1mb' }));

const unauthorized = (res: Response): void => {
  res.status(401).json({ error: 'unauthorized' });
};

app.get('/health', (_req, res) => {
  res.json({ ok: true });
});

app.post('/login', async (req: Request, res: Response) => {
  const { email, password } = (req.body ?? {}) as { email?: unknown; password?: unknown };
  if (typeof email !== 'string' || typeof password !== 'string') {
    res.status(400).json({ error: 'email and password are required' });
    return;
  }
  const { rows } = await pool.query<{ id: string; status: string; password_hash: string }>(
    `SELECT u.id, u.status, c.password_hash
       FROM users u JOIN credentials c ON c.user_id = u.id
      WHERE u.email = $1`,
    [email.trim().toLowerCase()],
  );
  const user = rows[0];
  const ok = user ? await argon2Verify(user.password_hash, password.normalize('NFC')) : false;
  if (!user || !ok || user.status !== 'active') return unauthorized(res);
  const accessToken = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${TTL_SECONDS}s`)
    .sign(key);
  res.json({ accessToken, tokenType: 'Bearer', expiresIn: TTL_SECONDS });
});

const subjectOf = (req: Request): Promise<string | undefined> => bearerSubject(req.headers.authorization, key);

app.get('/portfolios', async (req: Request, res: Response) => {
  const sub = await subjectOf(req);
  if (!sub) return unauthorized(res);
  const { rows } = await pool.query<{
    id: string;
    owner_id: string;
    name: string;
    base_currency: string;
    created_at: Date;
  }>(
    `SELECT id, owner_id, name, base_currency, created_at FROM portfolios
      WHERE owner_id = $1 ORDER BY lower(name), id LIMIT 51`,
    [sub],
  );
  res.json({
    items: rows.slice(0, 50).map((r) => ({
      id: r.id,
      ownerId: r.owner_id,
      name: r.name,
      baseCurrency: r.base_currency,
      createdAt: r.created_at.toISOString(),
    })),
    nextCursor: null,
  });
});

app.get('/me', async (req: Request, res: Response) => {
  const sub = await subjectOf(req);
  const user = sub ? await activeUser(pool, sub) : undefined;
  if (!user) return unauthorized(res);
  res.json(user);
});

app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  process.stderr.write(`baseline: ${String(err)}\n`);
  res.status(500).json({ error: 'internal' });
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  process.stdout.write(`listening on http://${address}:${port}\n`);
});

const shutdown = (): void => {
  server.close(() => {
    pool.end().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
