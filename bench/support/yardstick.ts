import type { KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Pool } from 'pg';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The yardstick servers' token check: the user id in a bearer token that verifies with the same
 * checks as Bastion's (HS256 pinned, issuer, audience, exp and sub required, 5 s clock tolerance);
 * undefined otherwise.
 */
export async function bearerSubject(authorization: string | undefined, key: KeyObject): Promise<string | undefined> {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
  if (!match) return undefined;
  try {
    const { payload } = await jwtVerify(match[1], key, {
      algorithms: ['HS256'],
      issuer: 'bastion',
      audience: 'bastion-api',
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 5,
    });
    return payload.sub && UUID.test(payload.sub) ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/** The yardsticks' `/me`: one one-row query, the user as JSON; undefined unless the user is active. */
export async function activeUser(pool: Pool, id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query<{
    id: string;
    email: string;
    first_name: string;
    last_name: string;
    status: string;
    roles: string[];
  }>('SELECT id, email, first_name, last_name, status, roles FROM users WHERE id = $1', [id]);
  const user = rows[0];
  if (!user || user.status !== 'active') return undefined;
  return {
    id: user.id,
    email: user.email,
    firstName: user.first_name,
    lastName: user.last_name,
    status: user.status,
    roles: user.roles,
  };
}
