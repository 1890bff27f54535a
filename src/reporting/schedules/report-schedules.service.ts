import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException, type FieldError } from '../../common/errors/app.exception';
import { AuditService } from '../../security/audit/audit.service';
import type { Principal } from '../../security/auth/principal';
import { ReportDeliveryService } from '../delivery/report-delivery.service';
import { ReportRunnerService } from '../runs/report-runner.service';
import { type ReportRunRow, ReportRunsRepository } from '../runs/report-runs.repository';
import { ReportsService } from '../runs/reports.service';
import { type Recipients, type ReportScheduleRow, ReportSchedulesRepository } from './report-schedules.repository';
import { cronError, cronFor, type Frequency, FREQUENCIES, isTimeZone, nextRuns } from './schedule-times';

export interface ScheduleInput {
  name: string;
  template: string;
  format: string;
  parameters?: Record<string, unknown>;
  frequency: string;
  time?: string;
  cron?: string;
  timeZone?: string;
  recipients?: Partial<Recipients>;
  skipEmpty?: boolean;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Report schedules: a due occurrence is taken in the transaction that queues its run (each runs
 * once across instances, and is never lost between the two; one missed while every instance was
 * down runs once, at the next tick), run as their owner with the owner's current permissions (an
 * owner who is no longer active pauses them until reactivated), and delivered by email
 * (attachment, or a link above REPORTS_ATTACH_MAX_BYTES) and webhook through the delivery outbox
 * (ReportDeliveryService), written in the transaction that finishes the run.
 */
@Injectable()
export class ReportSchedulesService implements OnApplicationBootstrap {
  private readonly logger = new Logger('ReportSchedules');
  private ticking = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly schedules: ReportSchedulesRepository,
    private readonly runs: ReportRunsRepository,
    private readonly reports: ReportsService,
    private readonly runner: ReportRunnerService,
    private readonly audit: AuditService,
    private readonly scheduler: SchedulerRegistry,
    private readonly delivery: ReportDeliveryService,
  ) {}

  onApplicationBootstrap(): void {
    this.runner.setFinishedHook(async (manager, run) => {
      const s = run.scheduleId ? await this.schedules.find(run.scheduleId, manager) : null;
      if (s) await this.delivery.enqueue(manager, run, s);
    });
    this.scheduler.addInterval(
      'reports.schedules',
      setInterval(() => void this.tick(), this.config.reports.pollIntervalMs),
    );
    setImmediate(() => void this.tick());
  }

  async create(principal: Principal, input: ScheduleInput): Promise<ReportScheduleRow> {
    const errors: FieldError[] = [];
    const tz = input.timeZone ?? 'UTC';
    if (!isTimeZone(tz))
      errors.push({ field: 'timeZone', message: 'timeZone must be an IANA time zone, e.g. Europe/London' });
    let cron = '';
    if (!(FREQUENCIES as string[]).includes(input.frequency)) {
      errors.push({ field: 'frequency', message: `frequency must be one of ${FREQUENCIES.join(', ')}` });
    } else if (input.frequency === 'cron') {
      const problem = input.cron ? cronError(input.cron, tz) : 'cron is required with frequency cron';
      if (problem) errors.push({ field: 'cron', message: problem });
      else cron = input.cron!;
    } else {
      try {
        cron = cronFor(input.frequency as Exclude<Frequency, 'cron'>, input.time ?? '06:00');
      } catch (e) {
        errors.push({ field: 'time', message: (e as Error).message });
      }
    }
    const recipients: Recipients = {
      emails: input.recipients?.emails ?? [],
      webhooks: input.recipients?.webhooks ?? [],
    };
    recipients.emails.forEach((e, i) => {
      if (typeof e !== 'string' || !EMAIL.test(e))
        errors.push({ field: `recipients.emails.${i}`, message: 'not an email address' });
    });
    recipients.webhooks.forEach((u, i) => {
      if (typeof u !== 'string' || !/^https?:\/\/\S+$/.test(u)) {
        errors.push({ field: `recipients.webhooks.${i}`, message: 'webhooks must be http(s) URLs' });
      }
    });
    if (errors.length) throw AppException.validation(errors);
    // The same checks as a run now: template, format, parameters, permissions.
    const prepared = await this.reports.prepareRun(principal, input);
    const saved = await this.dataSource.transaction(async (manager) => {
      const row = await this.schedules.insert(manager, {
        ownerId: principal.userId,
        name: input.name,
        template: prepared.template.key,
        format: prepared.format,
        parameters: prepared.parameters,
        frequency: input.frequency as Frequency,
        cron,
        timeZone: tz,
        recipients,
        skipEmpty: input.skipEmpty ?? false,
        nextRunAt: nextRuns(cron, tz, new Date())[0],
      });
      await this.audit.record(manager, {
        action: 'report_schedule.created',
        targetType: 'report_schedule',
        targetId: row.id,
        details: { name: row.name, template: row.template, format: row.format, cron, timeZone: tz },
      });
      return row;
    });
    return saved;
  }

  async get(principal: Principal, id: string): Promise<ReportScheduleRow> {
    const s = UUID.test(id) ? await this.schedules.find(id) : null;
    if (!s || s.ownerId !== principal.userId) throw AppException.notFound('report schedule');
    return s;
  }

  list(principal: Principal): Promise<ReportScheduleRow[]> {
    return this.schedules.listOwned(principal.userId);
  }

  nextRunTimes(s: ReportScheduleRow, count = 5): string[] {
    if (s.status !== 'active') return [];
    return nextRuns(s.cron, s.timeZone, new Date(), count).map((d) => d.toISOString());
  }

  async setStatus(principal: Principal, id: string, status: 'active' | 'paused'): Promise<ReportScheduleRow> {
    const s = await this.get(principal, id);
    return this.dataSource.transaction(async (manager) => {
      const next = status === 'active' ? nextRuns(s.cron, s.timeZone, new Date())[0] : null;
      const row = await this.schedules.setStatus(manager, s.id, status, null, next);
      await this.audit.record(manager, {
        action: status === 'active' ? 'report_schedule.resumed' : 'report_schedule.paused',
        targetType: 'report_schedule',
        targetId: s.id,
      });
      return row;
    });
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const s = await this.get(principal, id);
    await this.dataSource.transaction(async (manager) => {
      await this.schedules.delete(manager, s.id);
      await this.audit.record(manager, {
        action: 'report_schedule.deleted',
        targetType: 'report_schedule',
        targetId: s.id,
      });
    });
  }

  /** "Run now": a run of the schedule at once, delivered like a scheduled one. */
  async runNow(principal: Principal, id: string): Promise<ReportRunRow> {
    const s = await this.get(principal, id);
    const run = await this.reports.createRun(principal, s, s.id);
    this.runner.kick();
    return run;
  }

  /**
   * One pass of the scheduler: pauses the schedules of owners who are no longer active, resumes
   * those paused for an owner who is active again, then takes every due occurrence once.
   */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.followOwners();
      const handled: string[] = [];
      for (;;) {
        const now = new Date();
        const due = await this.schedules.nextDue(now, handled);
        if (!due) break;
        handled.push(due.id);
        try {
          await this.takeOccurrence(due, now);
        } catch (err) {
          // Still due (nothing was taken): the next tick, of any instance, tries again.
          this.logger.error(`schedule ${due.id}: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      this.logger.error(`schedules: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  /**
   * A suspended (or deactivated) owner's schedules pause with the reason `owner_inactive`; when
   * the owner is active again they resume from the next occurrence (none missed meanwhile runs).
   * A schedule the owner paused by hand is not touched.
   */
  private async followOwners(): Promise<void> {
    const paused = await this.schedules.pauseForInactiveOwners();
    if (paused.length) this.logger.log(`paused ${paused.length} schedule(s) of owners no longer active`);
    for (const s of await this.schedules.pausedForReactivatedOwners()) {
      await this.schedules.resumeForOwner(s.id, nextRuns(s.cron, s.timeZone, new Date())[0]);
    }
  }

  /**
   * Takes one due occurrence and queues its run as the owner, with the owner's current
   * permissions. Moving `next_run_at` and inserting the run commit together (a compare-and-set
   * on the occurrence, see {@link ReportSchedulesRepository.advance}): an instance that stops, or
   * a database error, between the two loses nothing, since the occurrence stays due and the next
   * tick (of any instance) takes it; and two instances never both take it. The owner and the
   * request are checked before the transaction, which holds only its own queries (the embedded
   * engine serves one connection).
   */
  private async takeOccurrence(due: ReportScheduleRow, now: Date): Promise<void> {
    const dueAt = due.nextRunAt!;
    const next = nextRuns(due.cron, due.timeZone, now)[0];
    const owner = await this.runner.ownerPrincipal(due.ownerId);
    if (!owner) {
      await this.schedules.pauseForInactiveOwners();
      return;
    }
    let prepared: Awaited<ReturnType<ReportsService['prepareRun']>>;
    try {
      prepared = await this.reports.prepareRun(owner, due);
    } catch (err) {
      // The owner lost a permission or a portfolio: this occurrence is skipped, the owner told.
      const skipped = await this.dataSource.transaction((manager) =>
        this.schedules.advance(manager, due.id, dueAt, next, now),
      );
      const reason = err instanceof AppException ? err.detail : (err as Error).message;
      if (skipped) {
        const text = `The scheduled report "${due.name}" could not run: ${reason}`;
        await this.delivery.noticeWithoutRun(due.ownerId, `Report failed: ${due.name}`, text);
      }
      return;
    }
    const run = await this.dataSource.transaction(async (manager) => {
      if (!(await this.schedules.advance(manager, due.id, dueAt, next, now))) return null;
      const inserted = await this.runs.insert(manager, {
        ownerId: due.ownerId,
        template: prepared.template.key,
        templateName: prepared.template.name,
        format: prepared.format,
        parameters: prepared.parameters,
        reportKey: prepared.reportKey,
        asOf: prepared.asOf,
        scheduleId: due.id,
      });
      await this.schedules.setLastRun(manager, due.id, inserted.id);
      return inserted;
    });
    if (run) {
      this.reports.emitProgress(run);
      this.runner.kick();
    }
  }
}
