import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tamper-evident audit log: `audit_events`, hash-chained entries that the database refuses to
 * update, delete or truncate, and `audit_chain_head`, the one row naming the newest entry, which
 * appends lock to serialise writers and verification compares the end of the chain with.
 */
export class AuditLog1795870000100 implements MigrationInterface {
  name = 'AuditLog1795870000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_events (
        id          uuid        NOT NULL DEFAULT gen_random_uuid(),
        seq         bigint      NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor_type  text        NOT NULL,
        actor_id    text        NULL,
        action      text        NOT NULL,
        target_type text        NULL,
        target_id   text        NULL,
        outcome     text        NOT NULL,
        ip          text        NULL,
        request_id  text        NULL,
        details     jsonb       NOT NULL DEFAULT '{}',
        prev_hash   char(64)    NOT NULL,
        hash        char(64)    NOT NULL,
        CONSTRAINT audit_events_pkey PRIMARY KEY (id),
        CONSTRAINT audit_events_seq_key UNIQUE (seq),
        CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('user', 'api_key', 'system')),
        CONSTRAINT audit_events_outcome_check CHECK (outcome IN ('success', 'failure', 'denied'))
      )
    `);
    await queryRunner.query(`CREATE INDEX audit_events_actor_id_idx ON audit_events (actor_id)`);
    await queryRunner.query(`CREATE INDEX audit_events_action_idx ON audit_events (action)`);
    await queryRunner.query(`CREATE INDEX audit_events_target_idx ON audit_events (target_type, target_id)`);
    await queryRunner.query(`CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at)`);

    await queryRunner.query(`
      CREATE TABLE audit_chain_head (
        id   smallint NOT NULL,
        seq  bigint   NOT NULL,
        hash char(64) NOT NULL,
        CONSTRAINT audit_chain_head_pkey PRIMARY KEY (id),
        CONSTRAINT audit_chain_head_single_row CHECK (id = 1)
      )
    `);
    // seq 0 and the genesis hash (64 zeros): the head of an empty chain.
    await queryRunner.query(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))`);

    // Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks (the table owner included).
    await queryRunner.query(`
      CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit events are append-only: % on audit_events is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Audit entries can only be added; corrections are recorded as new entries.';
      END
      $$
    `);
    await queryRunner.query(`
      CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    `);
    await queryRunner.query(`
      CREATE TRIGGER audit_events_no_truncate
        BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()
    `);

    // The head only moves forward and is never removed.
    await queryRunner.query(`
      CREATE FUNCTION audit_chain_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq > OLD.seq THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit chain head only moves forward: % on audit_chain_head is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$
    `);
    await queryRunner.query(`
      CREATE TRIGGER audit_chain_head_forward_only
        BEFORE UPDATE OR DELETE ON audit_chain_head
        FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward_only()
    `);
    await queryRunner.query(`
      CREATE TRIGGER audit_chain_head_no_truncate
        BEFORE TRUNCATE ON audit_chain_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward_only()
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_chain_head`);
    await queryRunner.query(`DROP FUNCTION audit_chain_head_forward_only()`);
    await queryRunner.query(`DROP TABLE audit_events`);
    await queryRunner.query(`DROP FUNCTION audit_events_refuse_change()`);
  }
}
