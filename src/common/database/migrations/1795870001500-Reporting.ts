import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reporting (ReportingModule): custom templates, report runs (also the job queue, claimed with
 * FOR UPDATE SKIP LOCKED) and schedules (claimed the same way when due).
 */
export class Reporting1795870001500 implements MigrationInterface {
  name = 'Reporting1795870001500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE report_templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL,
        description varchar(500) NOT NULL DEFAULT '',
        data_source text NOT NULL,
        parameters jsonb NOT NULL DEFAULT '[]',
        body text NOT NULL,
        created_by uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT report_templates_data_source_check CHECK (data_source IN
          ('trading-performance', 'portfolio-summary', 'risk', 'user-activity', 'security-compliance', 'trades'))
      )`);
    await q.query(`CREATE UNIQUE INDEX report_templates_name_key ON report_templates (lower(name))`);

    await q.query(`
      CREATE TABLE report_schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        template text NOT NULL,
        format text NOT NULL,
        parameters jsonb NOT NULL DEFAULT '{}',
        frequency text NOT NULL,
        cron text NOT NULL,
        time_zone text NOT NULL DEFAULT 'UTC',
        recipients jsonb NOT NULL DEFAULT '{"emails":[],"webhooks":[]}',
        skip_empty boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'active',
        paused_reason text,
        next_run_at timestamptz,
        last_run_at timestamptz,
        last_run_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT report_schedules_format_check CHECK (format IN ('html', 'csv', 'json', 'pdf')),
        CONSTRAINT report_schedules_frequency_check CHECK (frequency IN
          ('daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'cron')),
        CONSTRAINT report_schedules_status_check CHECK (status IN ('active', 'paused'))
      )`);
    await q.query(`CREATE INDEX report_schedules_due_idx ON report_schedules (next_run_at) WHERE status = 'active'`);
    await q.query(`CREATE INDEX report_schedules_owner_idx ON report_schedules (owner_id)`);

    await q.query(`
      CREATE TABLE report_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        template text NOT NULL,
        template_name text NOT NULL,
        format text NOT NULL,
        parameters jsonb NOT NULL DEFAULT '{}',
        report_key char(64) NOT NULL,
        version integer NOT NULL,
        as_of timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'queued',
        progress integer NOT NULL DEFAULT 0,
        error text,
        file_name text,
        content_type text,
        size bigint,
        sha256 char(64),
        row_count integer,
        schedule_id uuid REFERENCES report_schedules (id) ON DELETE SET NULL,
        attempts integer NOT NULL DEFAULT 0,
        claimed_by text,
        heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT report_runs_format_check CHECK (format IN ('html', 'csv', 'json', 'pdf')),
        CONSTRAINT report_runs_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed')),
        CONSTRAINT report_runs_progress_check CHECK (progress BETWEEN 0 AND 100),
        CONSTRAINT report_runs_version_key UNIQUE (report_key, version)
      )`);
    await q.query(
      `CREATE INDEX report_runs_queue_idx ON report_runs (created_at) WHERE status IN ('queued', 'running')`,
    );
    await q.query(`CREATE INDEX report_runs_owner_idx ON report_runs (owner_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX report_runs_list_idx ON report_runs (created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS report_runs`);
    await q.query(`DROP TABLE IF EXISTS report_schedules`);
    await q.query(`DROP TABLE IF EXISTS report_templates`);
  }
}
