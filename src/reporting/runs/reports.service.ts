import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import * as ejs from 'ejs';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException, type FieldError } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { DEFAULT_PAGE_SIZE, decodeCursor, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import type { Permission } from '../../security/rbac/permissions';
import { DATA_SOURCE_KEYS, DATA_SOURCES, type DataSourceKey, type ParamSpec } from '../data/data-sources';
import { canonicalJson, type ParamValues, validateParameters } from '../data/parameters';
import { ReportDataService } from '../data/report-data.service';
import { chromiumAvailable, REPORT_FORMATS, type ReportFormat } from '../render/renderers';
import { ReportingEvents, type ReportRunProgressEvent } from '../reporting.events';
import { checkTemplateSyntax } from '../templates/template-sandbox';
import { type ReportTemplateRow, ReportTemplatesRepository } from '../templates/report-templates.repository';
import { type ReportRunRow, ReportRunsRepository } from './report-runs.repository';

/** A template as runs use it: a built-in (key = data source) or a custom one (key = its id). */
export interface ResolvedTemplate {
  key: string;
  name: string;
  dataSource: DataSourceKey;
  parameters: ParamSpec[];
  /** Custom templates only: rendered in the sandbox. */
  body: string | null;
  builtin: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
const PARAM_NAME = /^[a-z][A-Za-z0-9]{0,39}$/;

/**
 * Report templates and runs: who may run what, parameter checks, versions, files, audit. The
 * work itself is done by {@link ReportRunnerService} once a run is claimed.
 */
@Injectable()
export class ReportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly runs: ReportRunsRepository,
    private readonly templates: ReportTemplatesRepository,
    private readonly data: ReportDataService,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
  ) {}

  builtinTemplates(): ResolvedTemplate[] {
    return DATA_SOURCE_KEYS.map((key) => ({
      key,
      name: DATA_SOURCES[key].title,
      dataSource: key,
      parameters: DATA_SOURCES[key].parameters,
      body: null,
      builtin: true,
    }));
  }

  async listTemplates(): Promise<ResolvedTemplate[]> {
    return [...this.builtinTemplates(), ...(await this.templates.list()).map((t) => this.fromCustom(t))];
  }

  private fromCustom(t: ReportTemplateRow): ResolvedTemplate {
    // Custom templates also take asOf, and whatever their data source takes.
    const declared = new Map(t.parameters.map((p) => [p.name, p]));
    for (const p of DATA_SOURCES[t.dataSource].parameters) if (!declared.has(p.name)) declared.set(p.name, p);
    return {
      key: t.id,
      name: t.name,
      dataSource: t.dataSource,
      parameters: [...declared.values()],
      body: t.body,
      builtin: false,
    };
  }

  async resolveTemplate(key: string): Promise<ResolvedTemplate> {
    if ((DATA_SOURCE_KEYS as readonly string[]).includes(key)) {
      return this.builtinTemplates().find((t) => t.key === key)!;
    }
    const custom = UUID.test(key) ? await this.templates.find(key.toLowerCase()) : null;
    if (!custom) throw AppException.notFound('report template');
    return this.fromCustom(custom);
  }

  /** Saves a custom template after checking its data source, parameters and EJS syntax. Audited. */
  async createTemplate(
    principal: Principal,
    input: { name: string; description?: string; dataSource: string; parameters?: ParamSpec[]; body: string },
  ): Promise<ResolvedTemplate> {
    const errors: FieldError[] = [];
    if (!NAME.test(input.name))
      errors.push({ field: 'name', message: 'name must be 1–100 letters, digits, spaces, . _ -' });
    if (!(DATA_SOURCE_KEYS as readonly string[]).includes(input.dataSource)) {
      errors.push({ field: 'dataSource', message: `dataSource must be one of ${DATA_SOURCE_KEYS.join(', ')}` });
    }
    const params = input.parameters ?? [];
    const seen = new Set<string>();
    params.forEach((p, i) => {
      if (!PARAM_NAME.test(p.name))
        errors.push({ field: `parameters.${i}.name`, message: 'name must be camelCase letters and digits' });
      if (seen.has(p.name)) errors.push({ field: `parameters.${i}.name`, message: 'duplicate parameter name' });
      seen.add(p.name);
      if (!['uuid', 'datetime', 'decimal', 'integer', 'string'].includes(p.type)) {
        errors.push({
          field: `parameters.${i}.type`,
          message: 'type must be uuid, datetime, decimal, integer or string',
        });
      }
    });
    const syntax = checkTemplateSyntax(input.body, (b) => ejs.compile(b, { localsName: 'data' }));
    if (syntax) errors.push({ field: 'body', message: `the template does not compile: ${syntax}` });
    if (errors.length) throw AppException.validation(errors);
    const saved = await this.dataSource.transaction(async (manager) => {
      const row = await this.templates.insert(manager, {
        name: input.name,
        description: input.description ?? '',
        dataSource: input.dataSource as DataSourceKey,
        parameters: params.map((p) => ({
          name: p.name,
          type: p.type,
          required: !!p.required,
          description: p.description ?? '',
        })),
        body: input.body,
        createdBy: principal.userId,
      });
      if (!row) throw new AppException(ErrorCode.Conflict, 'A report template with this name exists.');
      await this.audit.record(manager, {
        action: 'report_template.created',
        targetType: 'report_template',
        targetId: row.id,
        details: { name: row.name, dataSource: row.dataSource },
      });
      return row;
    });
    return this.fromCustom(saved);
  }

  /** Checks a run request as `principal` would make it; returns what a run needs. */
  async prepareRun(
    principal: Principal,
    request: { template: string; format: string; parameters?: unknown },
  ): Promise<{
    template: ResolvedTemplate;
    format: ReportFormat;
    parameters: ParamValues;
    asOf: Date;
    reportKey: string;
  }> {
    if (!(REPORT_FORMATS as string[]).includes(request.format)) {
      throw AppException.validation([{ field: 'format', message: 'format must be html, csv, json or pdf' }]);
    }
    const format = request.format as ReportFormat;
    const template = await this.resolveTemplate(request.template);
    this.data.requireReadable(principal, template.dataSource);
    const { values, errors } = validateParameters(template.parameters, request.parameters);
    if (errors.length) throw AppException.validation(errors);
    if (format === 'pdf' && !chromiumAvailable(this.config.reports.chromiumPath)) {
      throw new AppException(
        ErrorCode.PdfUnavailable,
        `PDF needs headless Chromium at ${this.config.reports.chromiumPath} (install the Debian package chromium, or set REPORTS_CHROMIUM_PATH).`,
      );
    }
    // A portfolio the caller may not read answers 404 now rather than failing the run later.
    if (typeof values.portfolioId === 'string') await this.data.books(principal, values);
    const reportKey = createHash('sha256')
      .update(canonicalJson({ template: template.key, parameters: values }))
      .digest('hex');
    const asOf = typeof values.asOf === 'string' ? new Date(values.asOf) : new Date();
    return { template, format, parameters: values, asOf, reportKey };
  }

  async createRun(
    principal: Principal,
    request: { template: string; format: string; parameters?: unknown },
    scheduleId: string | null = null,
  ): Promise<ReportRunRow> {
    const prepared = await this.prepareRun(principal, request);
    const run = await this.dataSource.transaction((manager) =>
      this.runs.insert(manager, {
        ownerId: principal.userId,
        template: prepared.template.key,
        templateName: prepared.template.name,
        format: prepared.format,
        parameters: prepared.parameters,
        reportKey: prepared.reportKey,
        asOf: prepared.asOf,
        scheduleId,
      }),
    );
    this.emitProgress(run);
    return run;
  }

  emitProgress(run: ReportRunRow): void {
    const payload: ReportRunProgressEvent = {
      reportId: run.id,
      ownerId: run.ownerId,
      status: run.status,
      progress: run.progress,
      error: run.error,
      at: new Date().toISOString(),
    };
    try {
      this.events.emit(ReportingEvents.RunProgress, payload);
    } catch {
      // A failing subscriber never fails the run.
    }
  }

  /**
   * Whose runs one may read: one's own (`reports:read`), and with `reports:read-all` other
   * users' runs of a data source whose data the reader may read themselves: its permissions, and
   * for portfolio data every portfolio (`portfolios:read-all`), since another user's trading
   * report covers books the reader may not be shared. So an auditor reads the security and
   * activity reports anyone ran, not trading books; an admin reads every report. Pure.
   */
  static readsOthersOf(permissions: ReadonlySet<Permission>, source: DataSourceKey): boolean {
    if (!permissions.has('reports:read-all')) return false;
    const needs = DATA_SOURCES[source].permissions;
    if (!needs.every((p) => permissions.has(p))) return false;
    return !needs.includes('portfolios:read') || permissions.has('portfolios:read-all');
  }

  /** The data sources of other users' runs `principal` may read. */
  static othersReadable(principal: Principal): DataSourceKey[] {
    return DATA_SOURCE_KEYS.filter((k) => ReportsService.readsOthersOf(principal.permissions, k));
  }

  /**
   * The one read rule of runs (REST and the live `report:<id>` channel): the run and, when the
   * reader is not its owner, the data source they read it under; null for a run that does not
   * exist or that they may not see (both answer alike).
   */
  async readable(
    principal: Principal,
    id: string,
  ): Promise<{ run: ReportRunRow; readAs: DataSourceKey | null } | null> {
    const run = UUID.test(id) ? await this.runs.find(id.toLowerCase()) : null;
    if (!run) return null;
    if (run.ownerId === principal.userId) return { run, readAs: null };
    if (!principal.permissions.has('reports:read-all')) return null;
    const template = await this.resolveTemplate(run.template).catch(() => null);
    if (!template || !ReportsService.readsOthersOf(principal.permissions, template.dataSource)) return null;
    return { run, readAs: template.dataSource };
  }

  /** A run the caller may read (see {@link readable}), else 404. */
  async get(principal: Principal, id: string): Promise<ReportRunRow> {
    const found = await this.readable(principal, id);
    if (!found) throw AppException.notFound('report');
    return found.run;
  }

  async list(
    principal: Principal,
    query: { limit?: number; cursor?: string; template?: string; reportKey?: string; owner?: 'me' | 'all' },
  ): Promise<Page<ReportRunRow>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, 'time');
    const everyone = query.owner === 'all';
    if (everyone && !principal.permissions.has('reports:read-all')) {
      throw new AppException(ErrorCode.Forbidden, "Listing other users' reports needs reports:read-all.", {
        extensions: { missingPermissions: ['reports:read-all'] },
      });
    }
    const rows = await this.runs.list(
      {
        ownerId: everyone ? null : principal.userId,
        ...(everyone
          ? { othersOf: { userId: principal.userId, dataSources: ReportsService.othersReadable(principal) } }
          : {}),
        template: query.template,
        reportKey: query.reportKey,
      },
      limit + 1,
      after ? { createdAt: new Date(after.k), id: after.id } : null,
    );
    return toPage(
      rows,
      limit,
      (r) => ({ k: r.createdAt.toISOString(), id: r.id }),
      (r) => r,
    );
  }

  filePath(run: Pick<ReportRunRow, 'id' | 'format'>): string {
    return join(this.config.reports.dir, `${run.id}.${run.format}`);
  }

  /** The file of a completed run, for streaming; the download is audited. */
  async download(principal: Principal, id: string): Promise<{ run: ReportRunRow; stream: ReadStream }> {
    const run = await this.get(principal, id);
    if (run.status !== 'completed' || !run.fileName) {
      throw new AppException(
        ErrorCode.ReportNotReady,
        `The report is ${run.status}; it can be downloaded once completed.`,
        {
          extensions: { status: run.status },
        },
      );
    }
    const path = this.filePath(run);
    try {
      statSync(path);
    } catch {
      throw AppException.notFound('report file');
    }
    await this.dataSource.transaction((manager) =>
      this.audit.record(manager, {
        action: 'report.downloaded',
        targetType: 'report',
        targetId: run.id,
        details: { template: run.template, format: run.format, version: run.version, sha256: run.sha256 },
      }),
    );
    return { run, stream: createReadStream(path) };
  }
}
