import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { createTransport, type Transporter } from 'nodemailer';
import { Counter } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { afterCommit } from '../../common/database/after-commit';
import { MetricsRegistry } from '../../common/metrics/metrics-registry';
import { ReportDataRepository } from '../data/report-data.repository';
import type { ReportRunRow } from '../runs/report-runs.repository';
import { ReportRunsRepository } from '../runs/report-runs.repository';
import { ReportsService } from '../runs/reports.service';
import type { ReportScheduleRow } from '../schedules/report-schedules.repository';
import {
  type EmailPayload,
  type NewDelivery,
  type ReportDelivery,
  ReportDeliveriesRepository,
} from './report-deliveries.repository';
import { nextDelay, postWebhook } from './webhook-delivery';

/** How long a claimed delivery is this instance's: well above one attempt's longest wait. */
const LEASE_SECONDS = 120;
const NO_SMTP = 'no SMTP server is configured (SMTP_URL)';

/** What one attempt came to. */
interface Attempt {
  ok: boolean;
  status: number | null;
  error: string | null;
  retryable: boolean;
}

/** Where a delivery went, safe to show and log: a webhook's origin (its URL may hold a token). */
export function deliveryTarget(d: Pick<ReportDelivery, 'channel' | 'target' | 'purpose'>): string {
  if (d.purpose === 'owner_notice') return 'owner';
  if (d.channel === 'email') return d.target ?? '';
  return d.target && URL.canParse(d.target) ? new URL(d.target).origin : 'a webhook';
}

/**
 * Delivery of scheduled reports through the `report_deliveries` outbox. A finished run's emails
 * and webhooks (or, for a failed run, the owner's notice) are written in the transaction that
 * finishes it; any instance claims what is due, sends it and records the outcome. A failed attempt
 * that may pass later is retried after 0.5, 2 and 8 s (four attempts), on the schedule stored in
 * the row, so a restart or another instance carries on where this one stopped. When a run's last
 * delivery has failed for good its owner is told once, listing what failed. At least once: an
 * instance that stops between sending and recording sends again after the lease; webhooks carry
 * `X-Bastion-Delivery` so receivers can drop the repeat.
 */
@Injectable()
export class ReportDeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReportDelivery');
  private readonly instanceId = randomUUID();
  private readonly attempts: Counter<'channel' | 'outcome'>;
  private transport: Transporter | undefined;
  private dispatching: Promise<number> | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: ReportDeliveriesRepository,
    private readonly runs: ReportRunsRepository,
    private readonly reports: ReportsService,
    private readonly dataRepo: ReportDataRepository,
    private readonly scheduler: SchedulerRegistry,
    metrics: MetricsRegistry,
  ) {
    this.attempts = new Counter({
      name: 'bastion_report_delivery_attempts_total',
      help: 'Scheduled report delivery attempts, by channel and outcome (delivered, retry, failed).',
      labelNames: ['channel', 'outcome'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    // The poll finds what another instance left (a lease run out) or queued; retries this
    // instance schedules wake it at their time (see wakeAt).
    this.scheduler.addInterval(
      'reports.deliveries',
      setInterval(() => void this.dispatchDue(), this.config.reports.pollIntervalMs),
    );
    setImmediate(() => void this.dispatchDue());
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    this.transport?.close();
  }

  /**
   * Writes the deliveries of a finished scheduled run in the transaction that finishes it, and
   * sends them once it has committed.
   */
  async enqueue(manager: EntityManager, run: ReportRunRow, s: ReportScheduleRow): Promise<void> {
    const rows: NewDelivery[] = [];
    const smtp = Boolean(this.config.mail.smtpUrl);
    const email = (purpose: NewDelivery['purpose'], target: string | null, payload: EmailPayload): NewDelivery =>
      smtp
        ? { runId: run.id, purpose, channel: 'email', target, payload: { ...payload } }
        : {
            runId: run.id,
            purpose,
            channel: 'email',
            target,
            payload: { ...payload },
            status: 'failed',
            lastError: NO_SMTP,
          };

    if (run.status === 'failed') {
      const text = `The scheduled report "${s.name}" failed: ${run.error ?? 'unknown error'}`;
      rows.push(email('owner_notice', null, { subject: `Report failed: ${s.name}`, text, attach: false }));
    } else if (!(s.skipEmpty && run.rowCount === 0)) {
      const link = `${this.config.reports.publicUrl ?? ''}/api/v1/reports/${run.id}/download`;
      const attach = (run.size ?? 0) <= this.config.reports.attachMaxBytes;
      if (s.recipients.emails.length) {
        rows.push(
          email('report', s.recipients.emails.join(','), {
            subject: `Report: ${s.name} (${run.asOf.toISOString()})`,
            text: attach
              ? `The report "${s.name}" is attached (${run.size} bytes, SHA-256 ${run.sha256}).`
              : `The report "${s.name}" is ${run.size} bytes; download it at ${link} (SHA-256 ${run.sha256}).`,
            attach,
            to: s.recipients.emails,
          }),
        );
      }
      for (const url of s.recipients.webhooks) {
        rows.push({
          runId: run.id,
          purpose: 'report',
          channel: 'webhook',
          target: url,
          payload: {
            event: 'report.completed',
            scheduleId: s.id,
            reportId: run.id,
            fileName: run.fileName,
            contentType: run.contentType,
            size: run.size,
            sha256: run.sha256,
            downloadUrl: link,
          },
        });
      }
    }
    if (rows.length === 0) return;
    await this.outbox.enqueue(manager, rows);
    afterCommit(manager, () => this.kick());
  }

  deliveries(runId: string): Promise<ReportDelivery[]> {
    return this.outbox.forRun(runId);
  }

  /** Sends what is due now, on this instance. */
  kick(): void {
    setImmediate(() => void this.dispatchDue());
  }

  /** Delivers what is due, in batches, until nothing is left; concurrent calls share one pass. */
  dispatchDue(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    this.dispatching ??= this.dispatchLoop()
      .catch((err: Error) => {
        if (!this.stopped) this.logger.error(`report deliveries: ${err.message}`);
        return 0;
      })
      .finally(() => (this.dispatching = undefined));
    return this.dispatching;
  }

  private async dispatchLoop(): Promise<number> {
    let done = 0;
    for (let round = 0; round < 20 && !this.stopped; round++) {
      const batch = await this.outbox.claimDue(this.instanceId, 10, LEASE_SECONDS);
      if (batch.length === 0) break;
      await Promise.all(batch.map((d) => this.deliver(d)));
      done += batch.length;
    }
    if (!this.stopped) this.wakeAt(await this.outbox.nextDueAt());
    return done;
  }

  /** Wakes this instance when the next retry is due (sooner than the poll would). */
  private wakeAt(at: Date | null): void {
    clearTimeout(this.wakeTimer);
    if (!at) return;
    const wait = Math.max(0, at.getTime() - Date.now());
    if (wait >= this.config.reports.pollIntervalMs) return;
    this.wakeTimer = setTimeout(() => void this.dispatchDue(), wait + 5);
    this.wakeTimer.unref();
  }

  private async deliver(d: ReportDelivery): Promise<void> {
    let attempt: Attempt;
    try {
      attempt = d.channel === 'webhook' ? await this.sendWebhook(d) : await this.sendEmail(d);
    } catch (err) {
      attempt = { ok: false, status: null, error: (err as Error).message, retryable: true };
    }
    const where = `${d.purpose === 'owner_notice' ? 'owner notice' : d.channel} ${d.id} (report ${d.runId})`;
    if (attempt.ok) {
      await this.outbox.markDelivered(d.id, attempt.status);
      this.attempts.inc({ channel: d.channel, outcome: 'delivered' });
      return;
    }
    const error = attempt.error ?? 'failed';
    const wait = attempt.retryable ? nextDelay(d.attempts) : null;
    if (wait !== null) {
      await this.outbox.markRetry(d.id, error, attempt.status, new Date(Date.now() + wait));
      this.attempts.inc({ channel: d.channel, outcome: 'retry' });
      this.logger.warn(`${where} attempt ${d.attempts} failed, retried in ${wait} ms: ${error}`);
      return;
    }
    this.attempts.inc({ channel: d.channel, outcome: 'failed' });
    this.logger.warn(`${where} to ${deliveryTarget(d)} failed after ${d.attempts} attempt(s): ${error}`);
    if (d.purpose === 'owner_notice') {
      await this.outbox.markNoticeFailed(d.id, error, attempt.status);
      return;
    }
    await this.dataSource.transaction(async (manager) => {
      const settled = await this.outbox.markFailed(manager, d, error, attempt.status);
      const failed = settled?.rows.filter((r) => r.status === 'failed') ?? [];
      if (!settled || failed.length === 0 || !this.config.mail.smtpUrl) return;
      const list = failed
        .map((r) => {
          const n = r.attempts;
          return `${deliveryTarget(r)} (${r.lastError}, ${n} attempt${n === 1 ? '' : 's'})`;
        })
        .join(', ');
      const payload: EmailPayload = {
        subject: `Report failed: ${settled.name}`,
        text: `The scheduled report "${settled.name}" could not be delivered to ${list}.`,
        attach: false,
      };
      await this.outbox.enqueue(manager, [
        { runId: d.runId, purpose: 'owner_notice', channel: 'email', target: null, payload: { ...payload } },
      ]);
      afterCommit(manager, () => this.kick());
    });
  }

  private async sendWebhook(d: ReportDelivery): Promise<Attempt> {
    return postWebhook(d.target!, d.payload, {
      deliveryId: d.id,
      blockPrivate: this.config.reports.webhookBlockPrivate,
    });
  }

  /**
   * Tells a schedule's owner at once, with no run to attach it to (an occurrence skipped because
   * the owner lost a permission): one attempt, logged when it fails. The next occurrence tells again.
   */
  async noticeWithoutRun(ownerId: string, subject: string, text: string): Promise<void> {
    const owner = await this.dataRepo.ownerAccess(ownerId);
    if (!owner || !this.config.mail.smtpUrl) return;
    try {
      await this.mailer().sendMail({ from: this.config.mail.from, to: owner.email, subject, text });
    } catch (err) {
      this.logger.warn(`owner notice "${subject}" could not be sent: ${(err as Error).message}`);
    }
  }

  private mailer(): Transporter {
    // Bounded waits, so an attempt ends well inside its lease.
    this.transport ??= createTransport({
      url: this.config.mail.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    return this.transport;
  }

  private async sendEmail(d: ReportDelivery): Promise<Attempt> {
    if (!this.config.mail.smtpUrl) return { ok: false, status: null, error: NO_SMTP, retryable: false };
    const run = await this.runs.find(d.runId);
    if (!run) return { ok: false, status: null, error: 'the report is gone', retryable: false };
    const payload = d.payload as unknown as EmailPayload;
    let to: string[];
    if (d.purpose === 'owner_notice') {
      const owner = await this.dataRepo.ownerAccess(run.ownerId);
      if (!owner) return { ok: false, status: null, error: 'the owner is gone', retryable: false };
      to = [owner.email];
    } else {
      to = payload.to ?? [];
    }
    try {
      await this.mailer().sendMail({
        from: this.config.mail.from,
        to,
        subject: payload.subject,
        text: payload.text,
        attachments: payload.attach
          ? [
              {
                filename: run.fileName!,
                content: await readFile(this.reports.filePath(run)),
                contentType: run.contentType!,
              },
            ]
          : [],
      });
      return { ok: true, status: null, error: null, retryable: false };
    } catch (err) {
      // A permanent SMTP refusal (5xx: no such mailbox, relaying denied) will not pass later.
      const code = (err as { responseCode?: number }).responseCode;
      const permanent = code !== undefined && code >= 500 && code < 600;
      return { ok: false, status: null, error: (err as Error).message, retryable: !permanent };
    }
  }
}
