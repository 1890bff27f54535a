import type { EntityManager } from 'typeorm';
import { returned } from './returned';

/**
 * The statements every delivery outbox shares. An outbox table holds one row per message to
 * send, with these columns beside its own: `status` ('pending' until 'delivered' or 'failed'),
 * `attempts`, `next_attempt_at`, `locked_until`, `locked_by`, `last_error` (varchar(1000)),
 * `response_status` and `delivered_at`. Rows are written in the transaction that decides to send;
 * any instance claims due ones with `FOR UPDATE SKIP LOCKED` and a lease, so each is attempted by
 * one instance at a time and is taken over when the lease of an instance that stopped runs out.
 * The retry schedule lives in the row. Each repository maps its own rows.
 */
export type OutboxTable = 'alert_notifications' | 'report_deliveries';

/** The shared columns of an outbox row, as the driver returns them. */
export interface OutboxColumns<S extends string> {
  status: S;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  response_status: number | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** The shared state of an outbox row, as the repositories answer it. */
export interface OutboxState<S extends string> {
  status: S;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  responseStatus: number | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export function mapOutboxState<S extends string>(r: OutboxColumns<S>): OutboxState<S> {
  return {
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: new Date(r.next_attempt_at),
    lastError: r.last_error,
    responseStatus: r.response_status,
    createdAt: new Date(r.created_at),
    deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
  };
}

/** Claims up to `limit` due rows for `leaseSeconds`, counting the attempt; the raw rows. */
export async function claimOutbox<Row>(
  m: EntityManager,
  table: OutboxTable,
  instance: string,
  limit: number,
  leaseSeconds: number,
): Promise<Row[]> {
  const result = await m.query<Row[] | [Row[], number]>(
    `UPDATE ${table} SET locked_until = now() + make_interval(secs => $3), locked_by = $1, attempts = attempts + 1
      WHERE id IN (SELECT id FROM ${table}
                    WHERE status = 'pending' AND next_attempt_at <= now()
                      AND (locked_until IS NULL OR locked_until < now())
                    ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [instance, limit, leaseSeconds],
  );
  return returned(result);
}

export async function markOutboxDelivered(
  m: EntityManager,
  table: OutboxTable,
  id: string,
  responseStatus: number | null,
): Promise<void> {
  await m.query(
    `UPDATE ${table} SET status = 'delivered', delivered_at = now(), response_status = $2, locked_until = NULL,
            last_error = NULL WHERE id = $1`,
    [id, responseStatus],
  );
}

/** A failed attempt: tried again at `nextAttemptAt`, or failed for good when it is null. */
export async function markOutboxAttemptFailed(
  m: EntityManager,
  table: OutboxTable,
  id: string,
  error: string,
  responseStatus: number | null,
  nextAttemptAt: Date | null,
): Promise<void> {
  await m.query(
    `UPDATE ${table} SET status = $2, last_error = $3, response_status = $4,
            next_attempt_at = coalesce($5, next_attempt_at), locked_until = NULL WHERE id = $1`,
    [id, nextAttemptAt ? 'pending' : 'failed', error.slice(0, 1000), responseStatus, nextAttemptAt],
  );
}
