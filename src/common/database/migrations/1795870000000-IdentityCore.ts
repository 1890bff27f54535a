import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, groups and activity (UsersModule); credentials, password history and sessions (SecurityModule). */
export class IdentityCore1795870000000 implements MigrationInterface {
  name = 'IdentityCore1795870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email varchar(254) NOT NULL,
        first_name varchar(100) NOT NULL DEFAULT '',
        last_name varchar(100) NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'active'
          CHECK (status IN ('active', 'inactive', 'suspended', 'pending', 'locked')),
        status_reason text,
        roles text[] NOT NULL DEFAULT '{viewer}',
        last_login_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_lowercase CHECK (email = lower(email))
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);
    await q.query(`CREATE INDEX users_created_idx ON users (created_at, id)`);
    await q.query(`CREATE INDEX users_roles_idx ON users USING gin (roles)`);

    await q.query(`
      CREATE TABLE groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL,
        description varchar(500) NOT NULL DEFAULT '',
        permissions text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX groups_name_key ON groups (lower(name))`);
    await q.query(`
      CREATE TABLE group_members (
        group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, user_id)
      )`);
    await q.query(`CREATE INDEX group_members_user_idx ON group_members (user_id)`);

    await q.query(`
      CREATE TABLE user_activities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        type text NOT NULL,
        ip text,
        user_agent text,
        api_key_id uuid,
        details jsonb NOT NULL DEFAULT '{}',
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX user_activities_user_idx ON user_activities (user_id, occurred_at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE credentials (
        user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        failed_attempts integer NOT NULL DEFAULT 0,
        lock_level integer NOT NULL DEFAULT 0,
        locked_until timestamptz
      )`);
    await q.query(`
      CREATE TABLE password_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX password_history_user_idx ON password_history (user_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        refresh_generation integer NOT NULL DEFAULT 0,
        refresh_hash char(64) NOT NULL,
        rotated_at timestamptz NOT NULL,
        ip text,
        user_agent text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        idle_expires_at timestamptz NOT NULL,
        absolute_expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      )`);
    await q.query(`CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'sessions',
      'password_history',
      'credentials',
      'user_activities',
      'group_members',
      'groups',
      'users',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
