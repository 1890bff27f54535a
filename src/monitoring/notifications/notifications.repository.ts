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
import type { StoredTarget } from '../alerts/alert-rules.repository';
import type { AlertmanagerPayload, NotificationKind } from './alert-payload';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'suppressed';

export interface Delivery extends OutboxState<DeliveryStatus> {
  id: string;
  alertId: string;
  ruleId: string | null;
  kind: NotificationKind;
  channel: 'webhook' | 'email';
  target: StoredTarget;
  payload: AlertmanagerPayload;
}

interface Row extends OutboxColumns<DeliveryStatus> {
  id: string;
  alert_id: string;
  rule_id: string | null;
  kind: NotificationKind;
  channel: 'webhook' | 'email';
  target: StoredTarget;
  payload: AlertmanagerPayload;
}

const map = (r: Row): Delivery => ({
  id: r.id,
  alertId: r.alert_id,
  ruleId: r.rule_id,
  kind: r.kind,
  channel: r.channel,
  target: r.target,
  payload: r.payload,
  ...mapOutboxState(r),
});

const TABLE = 'alert_notifications';

/**
 * The notification outbox (`alert_notifications`, statements shared with the other outboxes in
 * common/database/outbox.ts): rows are written in the transaction that
 * changes the alert, then claimed by any instance with `FOR UPDATE SKIP LOCKED` and a lease, so a
 * delivery is made once across instances and is taken over when the instance that claimed it dies.
 */
@Injectable()
export class NotificationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async enqueue(
    m: EntityManager,
    rows: Pick<Delivery, 'alertId' | 'ruleId' | 'kind' | 'channel' | 'target' | 'payload' | 'status'>[],
  ): Promise<void> {
    for (const r of rows) {
      await m.query(
        `INSERT INTO alert_notifications (alert_id, rule_id, kind, channel, target, payload, status)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7)`,
        [r.alertId, r.ruleId, r.kind, r.channel, JSON.stringify(r.target), JSON.stringify(r.payload), r.status],
      );
    }
  }

  /** Claims up to `limit` due deliveries for `leaseSeconds`, counting the attempt. */
  async claimDue(instance: string, limit: number, leaseSeconds: number): Promise<Delivery[]> {
    return (await claimOutbox<Row>(this.dataSource.manager, TABLE, instance, limit, leaseSeconds)).map(map);
  }

  markDelivered(id: string, responseStatus: number | null): Promise<void> {
    return markOutboxDelivered(this.dataSource.manager, TABLE, id, responseStatus);
  }

  /** Records a failed attempt: retried at `nextAttemptAt`, or failed for good when it is null. */
  markAttemptFailed(
    id: string,
    error: string,
    responseStatus: number | null,
    nextAttemptAt: Date | null,
  ): Promise<void> {
    return markOutboxAttemptFailed(this.dataSource.manager, TABLE, id, error, responseStatus, nextAttemptAt);
  }

  async forAlert(alertId: string): Promise<Delivery[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM alert_notifications WHERE alert_id = $1 ORDER BY created_at, id`,
      [alertId],
    );
    return rows.map(map);
  }

  async touchAlert(m: EntityManager, alertId: string, at: Date): Promise<void> {
    await m.query(`UPDATE alerts SET last_notified_at = $2 WHERE id = $1`, [alertId, at]);
  }
}
