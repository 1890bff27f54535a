import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
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

function returned<T>(result: T[] | [T[], number]): T[] {
  return Array.isArray(result[0]) ? result[0] : (result as T[]);
}

/** Report schedules; due ones are claimed with FOR UPDATE SKIP LOCKED so each runs once across instances. */
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

  async find(id: string): Promise<ReportScheduleRow | null> {
    const rows = await this.dataSource.query<RawSchedule[]>(`SELECT * FROM report_schedules WHERE id = $1`, [id]);
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
   * Claims one due schedule inside `work`'s transaction: the row stays locked (others skip it)
   * until `work` has queued the run and moved `next_run_at`, then commits.
   */
  async claimDue<T>(
    now: Date,
    work: (manager: EntityManager, schedule: ReportScheduleRow) => Promise<T>,
  ): Promise<T | null> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<RawSchedule[]>(
        `SELECT * FROM report_schedules WHERE status = 'active' AND next_run_at <= $1
          ORDER BY next_run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now],
      );
      if (rows.length === 0) return null;
      return work(manager, map(rows[0]));
    });
  }

  async markRun(manager: EntityManager, id: string, runId: string | null, nextRunAt: Date, at: Date): Promise<void> {
    await manager.query(
      `UPDATE report_schedules SET next_run_at = $2, last_run_at = $3, last_run_id = coalesce($4, last_run_id),
              updated_at = now() WHERE id = $1`,
      [id, nextRunAt, at, runId],
    );
  }

  async setLastRun(manager: EntityManager, id: string, runId: string): Promise<void> {
    await manager.query(`UPDATE report_schedules SET last_run_id = $2 WHERE id = $1`, [id, runId]);
  }
}
