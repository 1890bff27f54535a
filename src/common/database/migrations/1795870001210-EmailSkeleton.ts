import type { MigrationInterface, QueryRunner } from 'typeorm';
import { emailSkeleton } from '../../text/email';

/**
 * `users.email_skeleton`: the confusable skeleton of the email (see common/text/email.ts), indexed, so
 * registration can refuse an address that looks like an existing account's. Existing users get
 * theirs computed here, by the same function the application uses.
 */
export class EmailSkeleton1795870001210 implements MigrationInterface {
  name = 'EmailSkeleton1795870001210';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN email_skeleton varchar(254)`);
    const users = (await q.query(`SELECT id, email FROM users`)) as { id: string; email: string }[];
    for (const u of users) {
      await q.query(`UPDATE users SET email_skeleton = $2 WHERE id = $1`, [u.id, emailSkeleton(u.email)]);
    }
    await q.query(`CREATE INDEX users_email_skeleton_idx ON users (email_skeleton)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS email_skeleton`);
  }
}
