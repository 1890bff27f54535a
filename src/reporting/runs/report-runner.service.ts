import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import type { Principal } from '../../security/auth/principal';
import { isPermission } from '../../security/rbac/permissions';
import { isRole, permissionsForRoles } from '../../security/rbac/roles';
import { DATA_SOURCES } from '../data/data-sources';
import { ReportDataRepository } from '../data/report-data.repository';
import { ReportDataService } from '../data/report-data.service';
import {
  CONTENT_TYPES,
  csvParser,
  renderBuiltinHtml,
  renderJson,
  renderPdf,
  type WrittenFile,
  writeChunks,
} from '../render/renderers';
import { renderInSandbox } from '../templates/template-sandbox';
import { type ReportRunRow, ReportRunsRepository } from './report-runs.repository';
import { ReportsService } from './reports.service';

/**
 * Called in the transaction that finishes a scheduled run (completed or failed), to write its
 * deliveries there: delivery lives with the schedules.
 */
export type RunFinishedHook = (manager: EntityManager, run: ReportRunRow) => Promise<void>;

/** What a completed run records about its file. */
type FinishedFile = Parameters<ReportRunsRepository['complete']>[1];

/**
 * Works the report queue: claims runs one at a time (FOR UPDATE SKIP LOCKED, shared by every
 * instance), computes the data as the run's owner with their *current* permissions, renders and
 * stores the file (size, SHA-256), and reports progress. Also deletes files past retention.
 */
@Injectable()
export class ReportRunnerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReportRunner');
  private readonly instanceId = randomUUID();
  private busy = false;
  private stopped = false;
  private onFinished: RunFinishedHook | null = null;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly runs: ReportRunsRepository,
    private readonly reports: ReportsService,
    private readonly data: ReportDataService,
    private readonly dataRepo: ReportDataRepository,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  setFinishedHook(hook: RunFinishedHook): void {
    this.onFinished = hook;
  }

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'reports.queue',
      setInterval(() => void this.drain(), this.config.reports.pollIntervalMs),
    );
    this.scheduler.addInterval(
      'reports.retention',
      setInterval(() => void this.purge(), 3_600_000),
    );
    setImmediate(() => void this.drain());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  /** Wakes the worker now (after a run was queued on this instance). */
  kick(): void {
    setImmediate(() => void this.drain());
  }

  /** Claims and runs queued runs until none is left. */
  async drain(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      for (;;) {
        if (this.stopped) return;
        const run = await this.runs.claimNext(this.instanceId);
        if (!run) return;
        await this.process(run);
      }
    } catch (err) {
      if (!this.stopped) this.logger.error(`report queue: ${(err as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  /** The owner as a principal with their current roles and groups; null unless active. */
  async ownerPrincipal(userId: string): Promise<Principal | null> {
    const owner = await this.dataRepo.ownerAccess(userId);
    if (!owner || owner.status !== 'active') return null;
    const roles = owner.roles.filter(isRole);
    return {
      userId,
      email: owner.email,
      roles,
      permissions: permissionsForRoles(roles, owner.groupPermissions.filter(isPermission)),
    };
  }

  async ownerEmail(userId: string): Promise<string | null> {
    return (await this.dataRepo.ownerAccess(userId))?.email ?? null;
  }

  private async process(run: ReportRunRow): Promise<void> {
    this.reports.emitProgress(run);
    let outcome: { file: FinishedFile } | { error: string };
    try {
      const principal = await this.ownerPrincipal(run.ownerId);
      if (!principal) throw new Error('The owner of this report is not active.');
      const template = await this.reports.resolveTemplate(run.template);
      this.data.requireReadable(principal, template.dataSource);
      const spec = DATA_SOURCES[template.dataSource];
      const path = this.reports.filePath(run);
      // Created when first used: a cluster instance that writes no report needs no data directory.
      mkdirSync(this.config.reports.dir, { recursive: true });
      let written: { size: number; sha256: string };
      let rowCount: number | null = null;

      if (run.format === 'csv' && template.dataSource === 'trades') {
        // Streamed: memory stays flat however many trades there are.
        const books = (await this.data.books(principal, run.parameters)).map((b) => b.id);
        const range = ReportDataService.range(run.parameters, run.asOf);
        const total = await this.dataRepo.countTrades(books, range);
        const csv = await this.writeTradesCsv(run, path, books, range, total);
        written = csv.written;
        rowCount = csv.rowCount;
      } else {
        const data = await this.data.build(principal, template.dataSource, run.parameters, run.asOf);
        rowCount = data.tables[spec.csvTable].length;
        await this.runs.progress(run.id, 50);
        this.reports.emitProgress({ ...run, progress: 50 });
        let content: string | Buffer;
        if (run.format === 'json') content = renderJson(data);
        else if (run.format === 'csv') {
          const rows = data.tables[spec.csvTable];
          content = rows.length ? csvParser(spec).parse(rows) + '\n' : csvParser(spec).parse([]).split('\n')[0] + '\n';
        } else {
          const html = template.body
            ? await renderInSandbox(template.body, data, {
                timeoutMs: this.config.reports.templateTimeoutMs,
                memoryMb: this.config.reports.templateMemoryMb,
              })
            : renderBuiltinHtml(spec, data);
          content = run.format === 'pdf' ? await renderPdf(html, this.config.reports.chromiumPath) : html;
        }
        written = await writeChunks(path, [content]);
      }
      const stamp = run.asOf
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      const slug = run.templateName
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
      outcome = {
        file: {
          fileName: `${slug}-v${run.version}-${stamp}.${run.format}`,
          contentType: CONTENT_TYPES[run.format],
          size: written.size,
          sha256: written.sha256,
          rowCount,
        },
      };
    } catch (err) {
      const message =
        err instanceof AppException ? err.detail : err instanceof Error ? err.message : 'The report failed.';
      if (!(err instanceof AppException)) this.logger.warn(`report ${run.id} failed: ${message}`);
      rmSync(this.reports.filePath(run), { force: true });
      outcome = { error: message.slice(0, 1000) };
    }
    let finished: ReportRunRow;
    try {
      // The run's outcome and a scheduled run's deliveries commit together: a delivery is never
      // lost between the two, nor made for a run that did not finish.
      finished = await this.dataSource.transaction(async (manager) => {
        const row =
          'file' in outcome
            ? await this.runs.complete(run.id, outcome.file, manager)
            : await this.runs.fail(run.id, outcome.error, manager);
        if (row.scheduleId && this.onFinished) await this.onFinished(manager, row);
        return row;
      });
    } catch (err) {
      // Still `running`: once its heartbeat is stale an instance claims it again and redoes it.
      this.logger.error(`report ${run.id} could not be finished: ${(err as Error).message}`);
      return;
    }
    this.reports.emitProgress(finished);
  }

  /**
   * The trades CSV, streamed. On PostgreSQL the rows come from `COPY … TO STDOUT` (pg-copy-streams)
   * and go to the file as the server sends them, so the API never parses a row (near COPY speed,
   * flat memory); the header is json2csv's, and the rows are byte for byte what json2csv writes
   * (test/e2e/reporting/reports-csv-copy.e2e-spec.ts). The embedded engine serves one connection,
   * which a COPY would hold for the whole export while progress updates wait on it, so there the
   * rows are read in keyset pages of 5,000 and rendered by json2csv.
   */
  private async writeTradesCsv(
    run: ReportRunRow,
    path: string,
    books: string[],
    range: { from: Date; to: Date; asOf: Date },
    total: number,
  ): Promise<{ written: WrittenFile; rowCount: number }> {
    const spec = DATA_SOURCES.trades;
    const header = csvParser(spec).parse([]).split('\n')[0] + '\n';
    let lastProgress = 0;
    const progress = async (done: number): Promise<void> => {
      const value = total === 0 ? 90 : Math.min(90, 10 + Math.floor((done / total) * 80));
      if (value < lastProgress + 10) return;
      lastProgress = value;
      await this.runs.progress(run.id, value);
      this.reports.emitProgress({ ...run, progress: value });
    };

    if (this.config.mode === 'cluster') {
      const copy = await this.dataRepo.copyTradesCsv(books, range);
      try {
        let lines = 0;
        const written = await writeChunks(
          path,
          (async function* () {
            yield header;
            for await (const chunk of copy.stream as AsyncIterable<Buffer>) {
              yield chunk;
              // Line ends approximate rows (a quoted value may hold one): for progress only.
              for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
              await progress(lines);
            }
          })(),
        );
        await copy.done();
        return { written, rowCount: copy.stream.rowCount };
      } catch (err) {
        await copy.done(err as Error);
        throw err;
      }
    }

    let rowCount = 0;
    const pages = this.data.tradePages(books, range);
    const written = await writeChunks(
      path,
      (async function* () {
        yield header;
        const parser = csvParser(spec, false);
        for await (const page of pages) {
          yield parser.parse(page) + '\n';
          rowCount += page.length;
          await progress(rowCount);
        }
      })(),
    );
    return { written, rowCount };
  }

  /** Deletes runs and files older than REPORTS_RETENTION_DAYS. */
  async purge(): Promise<number> {
    const before = new Date(Date.now() - this.config.reports.retentionDays * 86_400_000);
    const old = await this.runs.expired(before, 1000);
    for (const run of old) {
      rmSync(this.reports.filePath(run), { force: true });
      await this.runs.delete(run.id);
    }
    return old.length;
  }
}
