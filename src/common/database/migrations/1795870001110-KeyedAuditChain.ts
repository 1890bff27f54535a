import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit chain is keyed: each entry names the chain key version its hash is an HMAC-SHA256
 * under (`key_version` ≥ 1). Entries already written keep 0, the plain SHA-256 scheme they were
 * hashed with, and are still verified as such; at start `AuditService` appends a keyed entry
 * after them, whose MAC covers the last plain hash. Adding a column fires no row trigger, so the
 * append-only rule stands.
 */
export class KeyedAuditChain1795870001110 implements MigrationInterface {
  name = 'KeyedAuditChain1795870001110';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events ADD COLUMN key_version smallint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE audit_events ADD CONSTRAINT audit_events_key_version_check CHECK (key_version >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_events DROP COLUMN key_version`);
  }
}
