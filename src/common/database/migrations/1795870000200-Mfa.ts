import type { MigrationInterface, QueryRunner } from 'typeorm';

/** TOTP MFA: authenticators (encrypted secrets), recovery codes and login challenges. */
export class Mfa1795870000200 implements MigrationInterface {
  name = 'Mfa1795870000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mfa_totp (
        user_id uuid PRIMARY KEY CONSTRAINT mfa_totp_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
        secret_enc text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        last_used_step bigint,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE mfa_recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL CONSTRAINT mfa_recovery_codes_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
        code_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX mfa_recovery_codes_user_hash_key ON mfa_recovery_codes (user_id, code_hash)`);

    await q.query(`
      CREATE TABLE mfa_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL CONSTRAINT mfa_challenges_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        ip text
      )`);
    await q.query(`CREATE UNIQUE INDEX mfa_challenges_token_hash_key ON mfa_challenges (token_hash)`);
    await q.query(`CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['mfa_challenges', 'mfa_recovery_codes', 'mfa_totp']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
