import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys, IP allow/deny rules and security events (threat detection). */
export class ApiKeysIpRulesThreats1795870000400 implements MigrationInterface {
  name = 'ApiKeysIpRulesThreats1795870000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL CONSTRAINT api_keys_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        prefix varchar(16) NOT NULL,
        key_hash char(64) NOT NULL,
        scopes text[] NOT NULL,
        allowed_cidrs text[] NOT NULL DEFAULT '{}',
        rate_tier text NOT NULL DEFAULT 'standard',
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        last_used_ip text,
        revoked_at timestamptz,
        revoked_by uuid
      )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)`);
    await q.query(`CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at)`);

    await q.query(`
      CREATE TABLE ip_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        action text NOT NULL CHECK (action IN ('allow', 'deny')),
        cidr text NOT NULL,
        description varchar(500) NOT NULL DEFAULT '',
        source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'config', 'threat')),
        expires_at timestamptz,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ip_rules_expires_idx ON ip_rules (expires_at)`);

    await q.query(`
      CREATE TABLE security_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
        ip text,
        user_id uuid,
        details jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX security_events_time_idx ON security_events (occurred_at DESC, id DESC)`);
    await q.query(`CREATE INDEX security_events_type_idx ON security_events (type, occurred_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS security_events`);
    await q.query(`DROP TABLE IF EXISTS ip_rules`);
    await q.query(`DROP TABLE IF EXISTS api_keys`);
  }
}
