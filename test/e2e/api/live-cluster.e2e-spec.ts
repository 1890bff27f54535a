import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, bearer, createUser, login } from '../support/auth';
import { connectLive, disconnected, emitAck, nextEvent } from '../support/live';
import { startTestApp, type TestApp } from '../support/test-app';

const cluster = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

/**
 * Two instances of Bastion on one PostgreSQL database and one Redis (REDIS_KEY_PREFIX shared):
 * what one instance does reaches live sockets on the other. Needs real PostgreSQL and Redis, so it
 * runs only when DATABASE_URL and REDIS_URL are set (CI); the embedded engine is one process.
 */
(cluster ? describe : describe.skip)('live gateway across two instances (cluster mode)', () => {
  let a: TestApp;
  let b: TestApp;
  const sockets: Socket[] = [];

  // One system: the same Redis prefix (socket.io adapter channels) and the same token-signing secret.
  const env = {
    ...BOOTSTRAP_ENV,
    REDIS_KEY_PREFIX: `bastion-test-${randomBytes(6).toString('hex')}:`,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    MASTER_KEY: randomBytes(32).toString('base64url'),
  };

  beforeAll(async () => {
    a = await startTestApp(env);
    b = await startTestApp(env, { shareDatabaseOf: a });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await b?.close();
    await a?.close();
  });

  it('delivers to a client on instance A a trade posted through instance B', async () => {
    const root = await login(b, ADMIN_EMAIL, ADMIN_PASSWORD);
    const trader = await createUser(b, root, ['trader']);
    const portfolio = await b.http
      .post('/api/v1/portfolios')
      .set(bearer(trader.tokens))
      .send({ name: 'Cluster book', baseCurrency: 'USD' });
    expect(portfolio.status).toBe(201);
    const onA = await connectLive(a, { token: trader.tokens.accessToken });
    sockets.push(onA);
    expect(await emitAck(onA, 'subscribe', { channel: `portfolio:${portfolio.body.id}` })).toMatchObject({ ok: true });

    // When the client got it, measured against the POST's answer (it may even come first).
    const received = nextEvent<Record<string, unknown>>(onA, 'trade').then((m) => ({ m, at: Date.now() }));
    const res = await b.http
      .post(`/api/v1/portfolios/${portfolio.body.id}/trades`)
      .set(bearer(trader.tokens))
      .send({ symbol: 'ACME', side: 'buy', quantity: '3', price: '7.25', executedAt: new Date().toISOString() });
    expect(res.status).toBe(201);
    const answered = Date.now();
    const { m: trade, at } = await received;
    expect(at - answered).toBeLessThan(500);
    expect(trade).toMatchObject({
      portfolioId: portfolio.body.id,
      trades: [expect.objectContaining({ id: res.body.id })],
    });
  });

  it('disconnects a socket on instance A within 1 s when its user logs out through instance B', async () => {
    const root = await login(a, ADMIN_EMAIL, ADMIN_PASSWORD);
    const user = await createUser(a, root, ['viewer']);
    const onA = await connectLive(a, { token: user.tokens.accessToken });
    sockets.push(onA);
    expect(await emitAck(onA, 'subscribe', { channel: 'prices' })).toMatchObject({ ok: true });
    const closing = nextEvent<{ reason: string }>(onA, 'closing');
    const since = Date.now();
    await b.http.post('/api/v1/auth/logout').set(bearer(user.tokens)).expect(204);
    const gone = await disconnected(onA, since);
    expect(gone.ms).toBeLessThan(1_000);
    expect(await closing).toMatchObject({ reason: 'session_revoked' });
  });

  it('tells clients to reconnect elsewhere when an instance shuts down', async () => {
    const root = await login(a, ADMIN_EMAIL, ADMIN_PASSWORD);
    const user = await createUser(a, root, ['viewer']);
    const third = await startTestApp(env, { shareDatabaseOf: a });
    const s = await connectLive(third, { token: user.tokens.accessToken });
    sockets.push(s);
    const closing = nextEvent<{ reason: string; reconnect: boolean }>(s, 'closing');
    const gone = disconnected(s, Date.now());
    await third.close();
    expect(await closing).toMatchObject({ reason: 'server_shutdown', reconnect: true });
    expect(['io server disconnect', 'transport close']).toContain((await gone).reason);
    // The client reconnects to a surviving instance with the same token.
    const again = await connectLive(b, { token: user.tokens.accessToken });
    sockets.push(again);
    expect(again.connected).toBe(true);
  });
});
