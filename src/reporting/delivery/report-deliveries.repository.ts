import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import {
  claimOutbox,
  mapOutboxState,
  markOutboxAttemptFailed,
  markOutboxDelivered,
  type OutboxColumns,
  type OutboxState,
} from '../../common/database/outbox';

export type DeliveryPurpose = 'report' | 'owner_notice';
export type DeliveryChannel = 'email' | 'webhook';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** What an email delivery sends; the file is read from the run when it is sent. */
export interface EmailPayload {
  subject: string;
  text: string;
  /** Attach the run's file (else the text links to it). */
  attach: boolean;
  /** The recipients (a report email); an owner notice goes to the owner's current address. */
  to?: string[];
}

export interface ReportDelivery extends OutboxState<DeliveryStatus> {
  id: string;
  runId: string;
  purpose: DeliveryPurpose;
  channel: DeliveryChannel;
  /**
   * Email addresses (comma-separated, for display; the payload's `to` is used), or the webhook
   * URL, which may carry a token: never logged or answered whole. Null for an owner notice (the
   * owner's current address is used).
   */
  target: string | null;
  /** The webhook's JSON body, or an {@link EmailPayload}. */
  payload: Record<string, unknown>;
}

export type NewDelivery = Pick<ReportDelivery, 'runId' | 'purpose' | 'channel' | 'target' | 'payload'> & {
  /** `failed` with `lastError` for what cannot be sent at all (no SMTP server configured). */
  status?: 'pending' | 'failed';
  lastError?: string;
};

interface RawDelivery extends OutboxColumns<DeliveryStatus> {
  id: string;
  run_id: string;
  purpose: DeliveryPurpose;
  channel: DeliveryChannel;
  target: string | null;
  payload: Record<string, unknown>;
}

const mapDelivery = (r: RawDelivery): ReportDelivery => ({
  id: r.id,
  runId: r.run_id,
  purpose: r.purpose,
  channel: r.channel,
  target: r.target,
  payload: r.payload,
  ...mapOutboxState(r),
});

const TABLE = 'report_deliveries';

/**
 * The report delivery outbox (`report_deliveries`; the statements it shares with the alert
 * notification outbox are in common/database/outbox.ts):
 * rows are written in the transaction that finishes the run, then claimed by any instance with
 * `FOR UPDATE SKIP LOCKED` and a lease, so each is attempted by one instance at a time and taken
 * over when the instance that claimed it stops. The retry schedule is in the row.
 */
@Injectable()
export class ReportDeliveriesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async enqueue(m: EntityManager, rows: NewDelivery[]): Promise<void> {
    for (const r of rows) {
      await m.query(
        `INSERT INTO report_deliveries (run_id, purpose, channel, target, payload, status, last_error)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
         ON CONFLICT (run_id) WHERE purpose = 'owner_notice' DO NOTHING`,
        [
          r.runId,
          r.purpose,
          r.channel,
          r.target,
          JSON.stringify(r.payload),
          r.status ?? 'pending',
          r.lastError?.slice(0, 1000) ?? null,
        ],
      );
    }
  }

  /** Claims up to `limit` due deliveries for `leaseSeconds`, counting the attempt. */
  async claimDue(instance: string, limit: number, leaseSeconds: number): Promise<ReportDelivery[]> {
    return (await claimOutbox<RawDelivery>(this.dataSource.manager, TABLE, instance, limit, leaseSeconds)).map(
      mapDelivery,
    );
  }

  /** When the next pending delivery is due (for the local wake-up timer), or null. */
  async nextDueAt(): Promise<Date | null> {
    const [row] = await this.dataSource.query<{ at: Date | null }[]>(
      `SELECT min(next_attempt_at) AS at FROM report_deliveries WHERE status = 'pending'`,
    );
    return row?.at ? new Date(row.at) : null;
  }

  markDelivered(id: string, responseStatus: number | null): Promise<void> {
    return markOutboxDelivered(this.dataSource.manager, TABLE, id, responseStatus);
  }

  /** An owner notice failed for good (nobody further to tell). */
  markNoticeFailed(id: string, error: string, responseStatus: number | null): Promise<void> {
    return markOutboxAttemptFailed(this.dataSource.manager, TABLE, id, error, responseStatus, null);
  }

  /** A failed attempt to be retried at `nextAttemptAt`. */
  markRetry(id: string, error: string, responseStatus: number | null, nextAttemptAt: Date): Promise<void> {
    return markOutboxAttemptFailed(this.dataSource.manager, TABLE, id, error, responseStatus, nextAttemptAt);
  }

  /**
   * A delivery failed for good. When none of its run's report deliveries is pending any more,
   * returns them with the schedule's name (so the caller can tell the owner once, in the same
   * transaction); else null. The run row is locked first, so of two instances failing a run's last
   * deliveries at once, the second sees both.
   */
  async markFailed(
    m: EntityManager,
    d: Pick<ReportDelivery, 'id' | 'runId'>,
    error: string,
    responseStatus: number | null,
  ): Promise<{ name: string; rows: ReportDelivery[] } | null> {
    const [run] = await m.query<{ name: string }[]>(
      `SELECT coalesce(s.name, r.template_name) AS name
         FROM report_runs r LEFT JOIN report_schedules s ON s.id = r.schedule_id
        WHERE r.id = $1 FOR UPDATE OF r`,
      [d.runId],
    );
    await markOutboxAttemptFailed(m, TABLE, d.id, error, responseStatus, null);
    const rows = await m.query<RawDelivery[]>(
      `SELECT * FROM report_deliveries WHERE run_id = $1 AND purpose = 'report' ORDER BY created_at, id`,
      [d.runId],
    );
    if (!run || rows.some((r) => r.status === 'pending')) return null;
    return { name: run.name, rows: rows.map(mapDelivery) };
  }

  async forRun(runId: string): Promise<ReportDelivery[]> {
    const rows = await this.dataSource.query<RawDelivery[]>(
      `SELECT * FROM report_deliveries WHERE run_id = $1 ORDER BY created_at, id`,
      [runId],
    );
    return rows.map(mapDelivery);
  }
}
