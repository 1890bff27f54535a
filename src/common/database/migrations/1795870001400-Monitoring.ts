import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Monitoring: metric samples (raw and 1-minute averages), alert rules with the two default rules,
 * alerts (one open alert per fingerprint), silences, the notification outbox, and the claim rows
 * that make each scheduled job run once per interval across instances.
 */
export class Monitoring1795870001400 implements MigrationInterface {
  name = 'Monitoring1795870001400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE monitoring_samples (
        instance text NOT NULL,
        at timestamptz NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (instance, at)
      )`);
    await q.query(`CREATE INDEX monitoring_samples_at_idx ON monitoring_samples (at)`);
    await q.query(`
      CREATE TABLE monitoring_samples_1m (
        instance text NOT NULL,
        bucket timestamptz NOT NULL,
        data jsonb NOT NULL,
        samples integer NOT NULL,
        PRIMARY KEY (instance, bucket)
      )`);
    await q.query(`CREATE INDEX monitoring_samples_1m_bucket_idx ON monitoring_samples_1m (bucket)`);

    await q.query(`
      CREATE TABLE alert_rules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        description varchar(2000) NOT NULL DEFAULT '',
        metric text NOT NULL,
        matchers jsonb NOT NULL DEFAULT '{}',
        operator text NOT NULL CHECK (operator IN ('>', '>=', '<', '<=', '==', '!=')),
        threshold double precision NOT NULL,
        for_seconds integer NOT NULL DEFAULT 0 CHECK (for_seconds >= 0),
        level text NOT NULL CHECK (level IN ('info', 'warning', 'error', 'critical')),
        labels jsonb NOT NULL DEFAULT '{}',
        annotations jsonb NOT NULL DEFAULT '{}',
        targets jsonb NOT NULL DEFAULT '[]',
        enabled boolean NOT NULL DEFAULT true,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX alert_rules_name_key ON alert_rules (lower(name))`);

    await q.query(`
      CREATE TABLE alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        rule_id uuid CONSTRAINT alerts_rule_id_fkey REFERENCES alert_rules (id) ON DELETE SET NULL,
        rule_name varchar(200) NOT NULL,
        fingerprint char(64) NOT NULL,
        labels jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'firing', 'acknowledged', 'resolved')),
        level text NOT NULL CHECK (level IN ('info', 'warning', 'error', 'critical')),
        value double precision,
        summary text,
        description text,
        started_at timestamptz NOT NULL,
        fired_at timestamptz,
        acknowledged_at timestamptz,
        acknowledged_by uuid,
        acknowledge_note varchar(2000),
        resolved_at timestamptz,
        resolved_by uuid,
        resolve_note varchar(2000),
        last_evaluated_at timestamptz NOT NULL,
        last_notified_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One open alert per rule and label set; resolved ones are history.
    await q.query(`CREATE UNIQUE INDEX alerts_open_fingerprint_key ON alerts (fingerprint) WHERE state <> 'resolved'`);
    await q.query(`CREATE INDEX alerts_started_idx ON alerts (started_at DESC, id DESC)`);
    await q.query(`CREATE INDEX alerts_rule_idx ON alerts (rule_id, started_at DESC)`);

    await q.query(`
      CREATE TABLE alert_silences (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        matchers jsonb NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        created_by uuid,
        comment varchar(2000) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      )`);
    await q.query(`CREATE INDEX alert_silences_ends_idx ON alert_silences (ends_at)`);

    await q.query(`
      CREATE TABLE alert_notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        alert_id uuid NOT NULL CONSTRAINT alert_notifications_alert_id_fkey REFERENCES alerts (id) ON DELETE CASCADE,
        rule_id uuid,
        kind text NOT NULL CHECK (kind IN ('firing', 'resolved', 'reminder')),
        channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
        target jsonb NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'suppressed')),
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
      `CREATE INDEX alert_notifications_due_idx ON alert_notifications (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX alert_notifications_alert_idx ON alert_notifications (alert_id, created_at)`);

    await q.query(`
      CREATE TABLE monitoring_claims (
        job text PRIMARY KEY,
        slot bigint NOT NULL,
        claimed_by text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      INSERT INTO alert_rules (name, description, metric, operator, threshold, for_seconds, level, annotations)
      VALUES
        ('HostCpuHigh', 'CPU utilisation of a host above 80% for 5 minutes.', 'host_cpu_usage_percent', '>', 80, 300,
         'warning', '{"summary": "CPU at {{ value }}% on {{ labels.instance }}",
                      "description": "CPU utilisation has been above 80% for 5 minutes."}'::jsonb),
        ('HostMemoryHigh', 'Memory in use on a host above 85% for 5 minutes.', 'host_memory_usage_percent', '>', 85,
         300, 'warning', '{"summary": "Memory at {{ value }}% on {{ labels.instance }}",
                      "description": "Memory in use has been above 85% for 5 minutes."}'::jsonb)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS monitoring_claims`);
    await q.query(`DROP TABLE IF EXISTS alert_notifications`);
    await q.query(`DROP TABLE IF EXISTS alert_silences`);
    await q.query(`DROP TABLE IF EXISTS alerts`);
    await q.query(`DROP TABLE IF EXISTS alert_rules`);
    await q.query(`DROP TABLE IF EXISTS monitoring_samples_1m`);
    await q.query(`DROP TABLE IF EXISTS monitoring_samples`);
  }
}
