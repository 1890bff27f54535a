import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The report delivery outbox. A scheduled run's emails, webhooks and its owner's failure notice
 * are written in the transaction that finishes the run, then claimed by any instance with
 * `FOR UPDATE SKIP LOCKED` and a lease, retried on a persisted schedule; before this they were
 * held in the memory of the instance that ran the report and lost if it stopped.
 */
export class ReportDeliveries1796300000000 implements MigrationInterface {
  name = 'ReportDeliveries1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE report_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL CONSTRAINT report_deliveries_run_id_fkey REFERENCES report_runs (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('report', 'owner_notice')),
        channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
        target text,
        payload jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        locked_until timestamptz,
        locked_by text,
        last_error varchar(1000),
        response_status integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX report_deliveries_due_idx ON report_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX report_deliveries_run_idx ON report_deliveries (run_id, created_at)`);
    // The owner hears about a run's failure, or its failed deliveries, once.
    await q.query(
      `CREATE UNIQUE INDEX report_deliveries_owner_notice_key ON report_deliveries (run_id) WHERE purpose = 'owner_notice'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE report_deliveries');
  }
}
