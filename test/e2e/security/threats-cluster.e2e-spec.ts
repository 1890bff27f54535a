import { randomBytes } from 'node:crypto';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { ThreatDetectionService } from '../../../src/security/threats/threat-detection.service';
import { SECURITY_EVENT_RECORDED } from '../../../src/security/threats/threat.events';
import { startTestApp, type TestApp } from '../support/test-app';

/** Cluster mode only (CI sets both): the embedded engine is one process with in-process windows. */
const cluster = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

/** Requests "from" another client: 127.0.0.1 is a trusted proxy here, so X-Forwarded-For is believed. */
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

/**
 * Two instances of Bastion on one PostgreSQL database and one Redis (REDIS_KEY_PREFIX shared):
 * threat detection's windows are shared, so failures spread over the instances add up as on one,
 * and one attack is reported once.
 */
(cluster ? describe : describe.skip)('threat detection across two instances', () => {
  let a: TestApp;
  let b: TestApp;
  const env = {
    TRUSTED_PROXIES: '127.0.0.1,::1',
    THREAT_BRUTE_FORCE_FAILURES: '4',
    THREAT_STUFFING_ACCOUNTS: '4',
    LOCKOUT_THRESHOLD: '50',
    REDIS_KEY_PREFIX: `bastion-test-${randomBytes(6).toString('hex')}:`,
  };

  beforeAll(async () => {
    a = await startTestApp(env);
    b = await startTestApp(env, { shareDatabaseOf: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** Resolves when `t` records a security event of this type (detection runs after the answer). */
  const recorded = async (t: TestApp, type: string): Promise<unknown> => {
    const [event] = (await t.app
      .get(EventEmitter2)
      .waitFor(
        SECURITY_EVENT_RECORDED,
        (...args: unknown[]) => (args[0] as { type: string }).type === type,
      )) as unknown[];
    return event;
  };

  const failLogin = (t: TestApp, email: string, ip: string) =>
    t.http.post('/api/v1/auth/login').set(from(ip)).send({ email, password: 'not-the-password-1' }).expect(401);

  const countEvents = async (type: string, detail: string, value: string): Promise<number> => {
    const [row] = await a.app
      .get(DataSource)
      .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM security_events WHERE type = $1 AND details->>$2 = $3`, [
        type,
        detail,
        value,
      ]);
    return row.n;
  };

  it('adds up failures for one account made on both instances, and reports the attack once', async () => {
    const account = 'brute@example.com';
    // Two failures on each instance: neither saw the threshold (4) alone.
    await failLogin(a, account, '198.51.100.1');
    await failLogin(b, account, '198.51.100.2');
    await failLogin(a, account, '198.51.100.3');
    const detected = recorded(b, 'brute_force');
    await failLogin(b, account, '198.51.100.4');
    expect(await detected).toMatchObject({ type: 'brute_force', details: { account, failures: 4 } });

    // A fifth failure, seen by the other instance, is above the threshold too, but the attack
    // was reported already: still one event.
    await a.app
      .get(ThreatDetectionService)
      .onLoginFailed({ email: account, ip: '198.51.100.5', reason: 'unknown_email' });
    expect(await countEvents('brute_force', 'account', account)).toBe(1);
  });

  it('counts distinct accounts failing from one address across instances (credential stuffing)', async () => {
    const ip = '203.0.113.77';
    await failLogin(a, 'one@example.com', ip);
    await failLogin(b, 'two@example.com', ip);
    await failLogin(a, 'three@example.com', ip);
    const detected = recorded(b, 'credential_stuffing');
    await failLogin(b, 'four@example.com', ip);
    expect(await detected).toMatchObject({ type: 'credential_stuffing', ip, details: { accounts: 4, attempts: 4 } });
  });
});
