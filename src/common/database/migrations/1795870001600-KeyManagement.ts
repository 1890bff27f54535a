import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Named keys (Vault transit's model): keys, their versions (material wrapped by a KEK), grants, the master key in use. */
export class KeyManagement1795870001600 implements MigrationInterface {
  name = 'KeyManagement1795870001600';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CONSTRAINT keys_name_key UNIQUE CONSTRAINT keys_name_check CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
        type text NOT NULL CONSTRAINT keys_type_check
          CHECK (type IN ('aes256-gcm', 'chacha20-poly1305', 'rsa-3072', 'rsa-4096', 'ed25519', 'ecdsa-p256', 'hmac')),
        internal boolean NOT NULL DEFAULT false,
        description text NOT NULL DEFAULT '',
        latest_version integer NOT NULL DEFAULT 1,
        min_decryption_version integer NOT NULL DEFAULT 1,
        min_encryption_version integer NOT NULL DEFAULT 0,
        deletion_allowed boolean NOT NULL DEFAULT false,
        exportable boolean NOT NULL DEFAULT false,
        auto_rotate_period_seconds integer CONSTRAINT keys_auto_rotate_check CHECK (auto_rotate_period_seconds >= 3600),
        allowed_operations text[] NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT keys_versions_check CHECK (
          min_decryption_version >= 1 AND min_decryption_version <= latest_version
          AND min_encryption_version >= 0 AND min_encryption_version <= latest_version)
      )`);

    await q.query(`
      CREATE TABLE key_versions (
        key_id uuid NOT NULL CONSTRAINT key_versions_key_id_fkey REFERENCES keys (id) ON DELETE CASCADE,
        version integer NOT NULL,
        material_wrapped text NOT NULL,
        master_kid text NOT NULL,
        public_key_pem text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_id, version)
      )`);
    await q.query(`CREATE INDEX key_versions_master_kid_idx ON key_versions (master_kid)`);

    await q.query(`
      CREATE TABLE key_grants (
        key_id uuid NOT NULL CONSTRAINT key_grants_key_id_fkey REFERENCES keys (id) ON DELETE CASCADE,
        subject_type text NOT NULL CONSTRAINT key_grants_subject_type_check CHECK (subject_type IN ('role', 'group')),
        subject text NOT NULL,
        PRIMARY KEY (key_id, subject_type, subject)
      )`);

    // One row: the master key every instance must wrap new material under (rotate-master-key moves it).
    await q.query(`
      CREATE TABLE key_master (
        id smallint PRIMARY KEY DEFAULT 1 CONSTRAINT key_master_single CHECK (id = 1),
        kid text NOT NULL,
        rotated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE key_master');
    await q.query('DROP TABLE key_grants');
    await q.query('DROP TABLE key_versions');
    await q.query('DROP TABLE keys');
  }
}
