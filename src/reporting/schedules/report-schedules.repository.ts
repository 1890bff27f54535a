import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { returned } from '../../common/database/returned';
import type { ParamValues } from '../data/parameters';
import type { ReportFormat } from '../render/renderers';
import type { Frequency } from './schedule-times';

export interface Recipients {
  emails: string[];
  webhooks: string[];
}

export interface ReportScheduleRow {
  id: string;
  ownerId: string;
  name: string;
  template: string;
  format: ReportFormat;
  parameters: ParamValues;
  frequency: Frequency;
  cron: string;
  timeZone: string;
  recipients: Recipients;
  skipEmpty: boolean;
  status: 'active' | 'paused';
  pausedReason: string | null;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastRunId: string | null;
  createdAt: Date;
}

interface RawSchedule {
  id: string;
  owner_id: string;
  name: string;
  template: string;
  format: ReportFormat;
  parameters: ParamValues;
  frequency: Frequency;
  cron: string;
  time_zone: string;
  recipients: Recipients;
  skip_empty: boolean;
  status: 'active' | 'paused';
  paused_reason: string | null;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_run_id: string | null;
  created_at: Date;
}

const map = (r: RawSchedule): ReportScheduleRow => ({
  id: r.id,
  ownerId: r.owner_id,
  name: r.name,
  template: r.template,
  format: r.format,
  parameters: r.parameters,
  frequency: r.frequency,
  cron: r.cron,
  timeZone: r.time_zone,
  recipients: r.recipients,
  skipEmpty: r.skip_empty,
  status: r.status,
  pausedReason: r.paused_reason,
  nextRunAt: r.next_run_at,
  lastRunAt: r.last_run_at,
  lastRunId: r.last_run_id,
  createdAt: r.created_at,
});

/** Report schedules; a due occurrence is taken by a compare-and-set on `next_run_at`, so each runs once across instances. */
@Injectable()
export class ReportSchedulesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    s: Omit<ReportScheduleRow, 'id' | 'status' | 'pausedReason' | 'lastRunAt' | 'lastRunId' | 'createdAt'>,
  ): Promise<ReportScheduleRow> {
    const rows = await manager.query<RawSchedule[]>(
      `INSERT INTO report_schedules (owner_id, name, template, format, parameters, frequency, cron, time_zone,
                                     recipients, skip_empty, next_run_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::jsonb, $10, $11) RETURNING *`,
      [
        s.ownerId,
        s.name,
        s.template,
        s.format,
        JSON.stringify(s.parameters),
        s.frequency,
        s.cron,
        s.timeZone,
        JSON.stringify(s.recipients),
        s.skipEmpty,
        s.nextRunAt,
      ],
    );
    return map(rows[0]);
  }

  async find(id: string, manager?: EntityManager): Promise<ReportScheduleRow | null> {
    const rows = await (manager ?? this.dataSource.manager).query<RawSchedule[]>(
      `SELECT * FROM report_schedules WHERE id = $1`,
      [id],
    );
    return rows.length ? map(rows[0]) : null;
  }

  async listOwned(ownerId: string): Promise<ReportScheduleRow[]> {
    const rows = await this.dataSource.query<RawSchedule[]>(
      `SELECT * FROM report_schedules WHERE owner_id = $1 ORDER BY created_at, id`,
      [ownerId],
    );
    return rows.map(map);
  }

  async setStatus(
    manager: EntityManager,
    id: string,
    status: 'active' | 'paused',
    reason: string | null,
    nextRunAt: Date | null,
  ): Promise<ReportScheduleRow> {
    const rows = await manager.query<RawSchedule[] | [RawSchedule[], number]>(
      `UPDATE report_schedules SET status = $2, paused_reason = $3, next_run_at = $4, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, status, reason, nextRunAt],
    );
    return map(returned(rows)[0]);
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM report_schedules WHERE id = $1`, [id]);
  }

  /**
   * The next due active schedule, read without a lock (`skip`: ids this tick already handled).
   * Taking it is {@link advance}'s compare-and-set, in the transaction that queues its run.
   */
  async nextDue(now: Date, skip: string[]): Promise<ReportScheduleRow | null> {
    const rows = await this.dataSource.query<RawSchedule[]>(
      `SELECT * FROM report_schedules WHERE status = 'active' AND next_run_at <= $1 AND NOT (id = ANY($2::uuid[]))
        ORDER BY next_run_at, id LIMIT 1`,
      [now, skip],
    );
    return rows.length ? map(rows[0]) : null;
  }

  /**
   * Takes one occurrence of a schedule: moves `next_run_at` from `due` (the occurrence read by
   * {@link nextDue}) to `next`, only if it still is `due` and the schedule is active. Under READ
   * COMMITTED a concurrent taker waits for the row lock and then finds `next_run_at` changed, so
   * exactly one caller gets `true`. Called in the transaction that inserts the occurrence's run:
   * the occurrence is taken if and only if its run exists.
   */
  async advance(manager: EntityManager, id: string, due: Date, next: Date, at: Date): Promise<boolean> {
    const rows = await manager.query<{ id: string }[] | [{ id: string }[], number]>(
      `UPDATE report_schedules SET next_run_at = $3, last_run_at = $4, updated_at = now()
        WHERE id = $1 AND status = 'active'
          AND date_trunc('milliseconds', next_run_at) = date_trunc('milliseconds', $2::timestamptz) RETURNING id`,
      [id, due, next, at],
    );
    return returned(rows).length === 1;
  }

  /** Pauses, as `owner_inactive`, the active schedules whose owner is not active; their ids. */
  async pauseForInactiveOwners(): Promise<string[]> {
    const rows = await this.dataSource.query<{ id: string }[] | [{ id: string }[], number]>(
      `UPDATE report_schedules s SET status = 'paused', paused_reason = 'owner_inactive', next_run_at = NULL,
              updated_at = now()
         FROM users u
        WHERE u.id = s.owner_id AND s.status = 'active' AND u.status <> 'active'
        RETURNING s.id`,
    );
    return returned(rows).map((r) => r.id);
  }

  /** Schedules paused because their owner was not active, whose owner is active again. */
  async pausedForReactivatedOwners(): Promise<ReportScheduleRow[]> {
    const rows = await this.dataSource.query<RawSchedule[]>(
      `SELECT s.* FROM report_schedules s JOIN users u ON u.id = s.owner_id
        WHERE s.status = 'paused' AND s.paused_reason = 'owner_inactive' AND u.status = 'active'
        ORDER BY s.id`,
    );
    return rows.map(map);
  }

  /** Resumes a schedule paused for its owner, unless it changed meanwhile (paused by hand, deleted). */
  async resumeForOwner(id: string, nextRunAt: Date): Promise<boolean> {
    const rows = await this.dataSource.query<{ id: string }[] | [{ id: string }[], number]>(
      `UPDATE report_schedules SET status = 'active', paused_reason = NULL, next_run_at = $2, updated_at = now()
        WHERE id = $1 AND status = 'paused' AND paused_reason = 'owner_inactive' RETURNING id`,
      [id, nextRunAt],
    );
    return returned(rows).length === 1;
  }

  async setLastRun(manager: EntityManager, id: string, runId: string): Promise<void> {
    await manager.query(`UPDATE report_schedules SET last_run_id = $2 WHERE id = $1`, [id, runId]);
  }
}
