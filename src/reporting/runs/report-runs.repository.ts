import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { returned } from '../../common/database/returned';
import type { ReportRunStatus } from '../reporting.events';
import type { ParamValues } from '../data/parameters';
import type { ReportFormat } from '../render/renderers';

export interface ReportRunRow {
  id: string;
  ownerId: string;
  template: string;
  templateName: string;
  format: ReportFormat;
  parameters: ParamValues;
  reportKey: string;
  version: number;
  asOf: Date;
  status: ReportRunStatus;
  progress: number;
  error: string | null;
  fileName: string | null;
  contentType: string | null;
  size: number | null;
  sha256: string | null;
  rowCount: number | null;
  scheduleId: string | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

interface RawRun {
  id: string;
  owner_id: string;
  template: string;
  template_name: string;
  format: ReportFormat;
  parameters: ParamValues;
  report_key: string;
  version: number;
  as_of: Date;
  status: ReportRunStatus;
  progress: number;
  error: string | null;
  file_name: string | null;
  content_type: string | null;
  size: string | null;
  sha256: string | null;
  row_count: number | null;
  schedule_id: string | null;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

function mapRun(r: RawRun): ReportRunRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    template: r.template,
    templateName: r.template_name,
    format: r.format,
    parameters: r.parameters,
    reportKey: r.report_key,
    version: r.version,
    asOf: r.as_of,
    status: r.status,
    progress: r.progress,
    error: r.error,
    fileName: r.file_name,
    contentType: r.content_type,
    size: r.size === null ? null : Number(r.size),
    sha256: r.sha256,
    rowCount: r.row_count,
    scheduleId: r.schedule_id,
    attempts: r.attempts,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** A run left `running` without a heartbeat this long is taken over by another instance. */
export const STALE_AFTER_SECONDS = 120;

/**
 * Report runs, which are also the job queue: an instance claims the oldest queued run (or one
 * whose claimer stopped heartbeating) with `FOR UPDATE SKIP LOCKED`, so instances never take the
 * same run and a restart loses nothing.
 */
@Injectable()
export class ReportRunsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** Inserts a queued run as the next version of its report (serialised per report key). */
  async insert(
    manager: EntityManager,
    run: {
      ownerId: string;
      template: string;
      templateName: string;
      format: ReportFormat;
      parameters: ParamValues;
      reportKey: string;
      asOf: Date;
      scheduleId?: string | null;
    },
  ): Promise<ReportRunRow> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`report:${run.reportKey}`]);
    const rows = await manager.query<RawRun[]>(
      `INSERT INTO report_runs (owner_id, template, template_name, format, parameters, report_key, version, as_of, schedule_id)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6,
               (SELECT coalesce(max(version), 0) + 1 FROM report_runs WHERE report_key = $6), $7, $8)
       RETURNING *`,
      [
        run.ownerId,
        run.template,
        run.templateName,
        run.format,
        JSON.stringify(run.parameters),
        run.reportKey,
        run.asOf,
        run.scheduleId ?? null,
      ],
    );
    return mapRun(rows[0]);
  }

  async claimNext(instanceId: string): Promise<ReportRunRow | null> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<RawRun[]>(
        `SELECT * FROM report_runs
          WHERE status = 'queued'
             OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $1))
          ORDER BY created_at, id
          LIMIT 1
          FOR UPDATE SKIP LOCKED`,
        [STALE_AFTER_SECONDS],
      );
      if (rows.length === 0) return null;
      const updated = await manager.query<RawRun[] | [RawRun[], number]>(
        `UPDATE report_runs SET status = 'running', progress = 5, claimed_by = $2, heartbeat_at = now(),
                started_at = coalesce(started_at, now()), attempts = attempts + 1, error = NULL
          WHERE id = $1 RETURNING *`,
        [rows[0].id, instanceId],
      );
      return mapRun(returned(updated)[0]);
    });
  }

  async progress(id: string, progress: number): Promise<void> {
    await this.m().query(`UPDATE report_runs SET progress = $2, heartbeat_at = now() WHERE id = $1`, [id, progress]);
  }

  async complete(
    id: string,
    file: { fileName: string; contentType: string; size: number; sha256: string; rowCount: number | null },
    manager?: EntityManager,
  ): Promise<ReportRunRow> {
    const rows = await this.m(manager).query<RawRun[] | [RawRun[], number]>(
      `UPDATE report_runs SET status = 'completed', progress = 100, file_name = $2, content_type = $3, size = $4,
              sha256 = $5, row_count = $6, finished_at = now(), heartbeat_at = now()
        WHERE id = $1 RETURNING *`,
      [id, file.fileName, file.contentType, file.size, file.sha256, file.rowCount],
    );
    return mapRun(returned(rows)[0]);
  }

  async fail(id: string, error: string, manager?: EntityManager): Promise<ReportRunRow> {
    const rows = await this.m(manager).query<RawRun[] | [RawRun[], number]>(
      `UPDATE report_runs SET status = 'failed', error = $2, finished_at = now(), heartbeat_at = now()
        WHERE id = $1 RETURNING *`,
      [id, error],
    );
    return mapRun(returned(rows)[0]);
  }

  async find(id: string): Promise<ReportRunRow | null> {
    const rows = await this.m().query<RawRun[]>(`SELECT * FROM report_runs WHERE id = $1`, [id]);
    return rows.length ? mapRun(rows[0]) : null;
  }

  /** Newest first; everyone's with `all`, else the owner's. */
  async list(
    filter: {
      ownerId: string | null;
      /** With no ownerId: the user's own runs and others' runs of these data sources only. */
      othersOf?: { userId: string; dataSources: string[] };
      reportKey?: string;
      template?: string;
    },
    limit: number,
    after: { createdAt: Date; id: string } | null,
  ): Promise<ReportRunRow[]> {
    const where: string[] = [];
    const params: unknown[] = [limit];
    if (filter.ownerId) {
      params.push(filter.ownerId);
      where.push(`owner_id = $${params.length}`);
    }
    if (filter.othersOf) {
      params.push(filter.othersOf.userId, filter.othersOf.dataSources);
      const [u, ds] = [`$${params.length - 1}`, `$${params.length}`];
      where.push(
        `(owner_id = ${u} OR template = ANY(${ds}::text[])
           OR template IN (SELECT id::text FROM report_templates WHERE data_source = ANY(${ds}::text[])))`,
      );
    }
    if (filter.reportKey) {
      params.push(filter.reportKey);
      where.push(`report_key = $${params.length}`);
    }
    if (filter.template) {
      params.push(filter.template);
      where.push(`template = $${params.length}`);
    }
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length}::uuid)`);
    }
    const rows = await this.m().query<RawRun[]>(
      `SELECT * FROM report_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT $1`,
      params,
    );
    return rows.map(mapRun);
  }

  /** Completed runs whose files are older than the retention, to delete. */
  async expired(before: Date, limit: number): Promise<ReportRunRow[]> {
    const rows = await this.m().query<RawRun[]>(
      `SELECT * FROM report_runs WHERE finished_at < $1 AND status IN ('completed', 'failed')
        ORDER BY finished_at LIMIT $2`,
      [before, limit],
    );
    return rows.map(mapRun);
  }

  async delete(id: string): Promise<void> {
    await this.m().query(`DELETE FROM report_runs WHERE id = $1`, [id]);
  }
}
