import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { afterCommit } from '../../../src/common/database/after-commit';
import { FailedSignInsService } from '../../../src/security/credentials/failed-sign-ins.service';
import { type LoginFailedSignal, ThreatSignals } from '../../../src/security/threats/threat.events';
import { UsersService } from '../../../src/users/users/users.service';
import { ADMIN_EMAIL, ADMIN_PASSWORD, BOOTSTRAP_ENV, login } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Events leave only after commit: work queued with `afterCommit` runs once the transaction has
 * committed (and sees the committed rows from another connection), and never when it rolls back.
 */
describe('afterCommit', () => {
  let t: TestApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    t = await startTestApp(BOOTSTRAP_ENV);
    dataSource = t.app.get(DataSource);
  });
  afterAll(() => t?.close());

  it('runs queued work after COMMIT, not before, and not at all after a rollback', async () => {
    const ran: string[] = [];
    const result = await dataSource.transaction(async (manager) => {
      afterCommit(manager, () => ran.push('committed'));
      expect(ran).toEqual([]); // still inside the transaction
      return 'done';
    });
    expect(result).toBe('done');
    expect(ran).toEqual(['committed']);

    await expect(
      dataSource.transaction(async (manager) => {
        afterCommit(manager, () => ran.push('rolled back'));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(ran).toEqual(['committed']);
  });

  it('drops the work of a rolled-back savepoint and keeps that of the enclosing transaction', async () => {
    const ran: string[] = [];
    await dataSource.transaction(async (manager) => {
      afterCommit(manager, () => ran.push('outer'));
      await manager
        .transaction(async (inner) => {
          afterCommit(inner, () => ran.push('inner, rolled back'));
          throw new Error('abort inner');
        })
        .catch(() => undefined);
      await manager.transaction(async (inner) => {
        afterCommit(inner, () => ran.push('inner, released'));
      });
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['outer', 'inner, released']);
  });

  it('runs at once outside a transaction, and a failing work never fails the commit', async () => {
    const ran: string[] = [];
    afterCommit(dataSource.manager, () => ran.push('now'));
    expect(ran).toEqual(['now']);
    await expect(
      dataSource.transaction(async (manager) => {
        afterCommit(manager, () => {
          throw new Error('subscriber failed');
        });
        afterCommit(manager, () => ran.push('next'));
      }),
    ).resolves.toBeUndefined();
    expect(ran).toEqual(['now', 'next']);
  });

  it('a failed sign-in recorded in a transaction that rolls back emits no threat signal and leaves no trace', async () => {
    const events = t.app.get(EventEmitter2);
    const failures = t.app.get(FailedSignInsService);
    const user = (await t.app.get(UsersService).findByEmail(ADMIN_EMAIL))!;
    const signals: LoginFailedSignal[] = [];
    const listener = (s: LoginFailedSignal): void => void signals.push(s);
    events.on(ThreatSignals.loginFailed, listener);
    const activityCount = async (): Promise<number> => {
      const [row] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM user_activities WHERE user_id = $1 AND type = 'login_failed'`,
        [user.id],
      );
      return row.n;
    };
    try {
      const before = await activityCount();
      await expect(
        dataSource.transaction(async (manager) => {
          await failures.recordFailure(manager, user, 'wrong_password');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(signals).toEqual([]);
      expect(await activityCount()).toBe(before);

      // The same call in a transaction that commits emits once, after the row is visible.
      let visibleAtEmit: Promise<number> | undefined;
      const probe = (): void => void (visibleAtEmit = activityCount());
      events.on(ThreatSignals.loginFailed, probe);
      await dataSource.transaction((manager) => failures.recordFailure(manager, user, 'wrong_password'));
      expect(signals).toHaveLength(1);
      expect(signals[0]).toMatchObject({ userId: user.id, reason: 'wrong_password' });
      expect(await visibleAtEmit).toBe(before + 1);
      events.off(ThreatSignals.loginFailed, probe);
    } finally {
      events.off(ThreatSignals.loginFailed, listener);
    }
  });

  it('a successful sign-in emits its signal once, after the session is committed', async () => {
    const events = t.app.get(EventEmitter2);
    const sessionCommitted: Promise<boolean>[] = [];
    events.on(ThreatSignals.loginSucceeded, (s: { sessionId: string }) =>
      sessionCommitted.push(
        dataSource
          .query<{ n: number }[]>(`SELECT count(*)::int AS n FROM sessions WHERE id = $1`, [s.sessionId])
          .then(([row]) => row.n === 1),
      ),
    );
    await login(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(sessionCommitted).toHaveLength(1);
    expect(await sessionCommitted[0]).toBe(true);
  });
});
