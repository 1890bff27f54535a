import type { TestApp } from './test-app';

export const ADMIN_EMAIL = 'root@example.com';
export const ADMIN_PASSWORD = 'Correct-Horse-Battery-9';

/** Settings that create the bootstrap super_admin above. */
export const BOOTSTRAP_ENV = { BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD };

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export async function login(t: TestApp, email: string, password: string): Promise<Tokens> {
  const res = await t.http.post('/api/v1/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login ${email} answered ${res.status}: ${res.text}`);
  return res.body as Tokens;
}

export const bearer = (tokens: Tokens | string): { Authorization: string } => ({
  Authorization: `Bearer ${typeof tokens === 'string' ? tokens : tokens.accessToken}`,
});

let counter = 0;

/** Creates an active user with the given roles through the admin API and signs them in. */
export async function createUser(
  t: TestApp,
  admin: Tokens,
  roles: string[],
  overrides: { email?: string; firstName?: string; lastName?: string } = {},
): Promise<{ id: string; email: string; password: string; tokens: Tokens }> {
  counter += 1;
  const email = overrides.email ?? `user${counter}-${roles.join('-') || 'none'}@example.com`;
  const password = `Quiet-Orchard-${counter}-Lantern`;
  const res = await t.http
    .post('/api/v1/users')
    .set(bearer(admin))
    .send({
      email,
      password,
      firstName: overrides.firstName ?? 'Test',
      lastName: overrides.lastName ?? `User${counter}`,
      roles,
    });
  if (res.status !== 201) throw new Error(`create user answered ${res.status}: ${res.text}`);
  return { id: res.body.id as string, email, password, tokens: await login(t, email, password) };
}
