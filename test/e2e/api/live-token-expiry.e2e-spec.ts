import type { Socket } from 'socket.io-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, createUser, login } from '../support/auth';
import { connectLive, disconnected, emitAck, nextEvent } from '../support/live';
import { startTestApp, type TestApp } from '../support/test-app';

/** Access tokens of 3 s in this app only: a socket outlives its token only with a fresh one. */
describe('live gateway: access-token expiry', () => {
  let t: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await startTestApp({ ...BOOTSTRAP_ENV, ACCESS_TOKEN_TTL_SECONDS: '3' });
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
  });

  it('disconnects with token_expired at expiry, unless the client sent a fresh token with `auth`', async () => {
    const root = await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    const user = await createUser(t, root, ['viewer']);
    const tokens = await login(t, user.email, user.password);
    const stale = await connectLive(t, { token: tokens.accessToken });
    const fresh = await connectLive(t, { token: tokens.accessToken });
    sockets.push(stale, fresh);
    const staleClosing = nextEvent<{ reason: string; reconnect: boolean }>(stale, 'closing', () => true, 10_000);
    const freshClosing = nextEvent<{ reason: string }>(fresh, 'closing', () => true, 10_000).then(
      () => true,
      () => false,
    );

    // Another user's token is refused; a fresh one of the same user is taken.
    const other = await createUser(t, root, ['viewer']);
    const wrong = await emitAck<{ ok: boolean; error?: { code: string } }>(fresh, 'auth', {
      token: (await login(t, other.email, other.password)).accessToken,
    });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await emitAck(fresh, 'auth', { token: 'garbage' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_TOKEN' },
    });
    const renewed = await login(t, user.email, user.password);
    const ok = await emitAck<{ ok: boolean; expiresAt: string }>(fresh, 'auth', { token: renewed.accessToken });
    expect(ok).toEqual({ ok: true, expiresAt: expect.any(String) });

    const expiresAt = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1], 'base64url').toString()) as {
      exp: number;
    };
    expect(await staleClosing).toEqual({ reason: 'token_expired', reconnect: true, message: expect.any(String) });
    const gone = await disconnected(stale, Date.now());
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.exp * 1000);
    expect(Date.now() - expiresAt.exp * 1000).toBeLessThan(2_000);
    expect(gone.reason).toMatch(/io server disconnect|already/);
    // The renewed socket is still there after the first token's expiry.
    expect(fresh.connected).toBe(true);
    fresh.close();
    expect(await freshClosing).toBe(false);
  });
});
