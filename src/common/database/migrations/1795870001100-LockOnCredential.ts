import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lockout lives on the credential (`credentials.locked_until`), not on the user's status: a lock
 * refuses sign-in and nothing else, and ends by itself. Users a lock had set to `locked` become
 * `active` again (their credential keeps its `locked_until`, so a lock still in force still
 * refuses sign-in until it expires or an admin unlocks), and `locked` leaves the status set.
 */
export class LockOnCredential1795870001100 implements MigrationInterface {
  name = 'LockOnCredential1795870001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE users SET status = 'active', status_reason = NULL WHERE status = 'locked'`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_status_check`);
    await q.query(
      `ALTER TABLE users ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'inactive', 'suspended', 'pending'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_status_check`);
    await q.query(
      `ALTER TABLE users ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'inactive', 'suspended', 'pending', 'locked'))`,
    );
    await q.query(
      `UPDATE users u SET status = 'locked', status_reason = 'too many failed logins'
         FROM credentials c WHERE c.user_id = u.id AND u.status = 'active' AND c.locked_until > now()`,
    );
  }
}
