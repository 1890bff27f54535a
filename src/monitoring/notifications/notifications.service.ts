import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { Counter } from 'prom-client';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { MetricsRegistry } from '../../common/metrics/metrics-registry';
import { assertPublicDestination } from '../../common/net/outbound';
import { EncryptionService } from '../../security/crypto/encryption.service';
import { backoffMs, interpolate, matchersMatch } from '../alerts/alert-logic';
import type { AlertRule } from '../alerts/alert-rules.repository';
import type { Alert, Silence } from '../alerts/alerts.repository';
import { TARGET_SECRET_PURPOSE } from '../alerts/alert-rules.service';
import { alertEmail, alertmanagerPayload, type NotificationKind, signWebhook } from './alert-payload';
import { type Delivery, NotificationsRepository } from './notifications.repository';

/**
 * Notifications of alerts: written to the outbox in the alert's transaction (suppressed when a
 * silence matches), then delivered by whichever instance claims them: webhooks (Alertmanager v4
 * JSON, HMAC-SHA256 signed) and email over SMTP, retried with exponential backoff.
 */
@Injectable()
export class NotificationsService implements OnModuleDestroy {
  private readonly logger = new Logger(NotificationsService.name);
  private readonly transports = new Map<string, Transporter>();
  private readonly sent: Counter<'channel' | 'outcome'>;
  private dispatching: Promise<number> | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly outbox: NotificationsRepository,
    private readonly encryption: EncryptionService,
    metrics: MetricsRegistry,
  ) {
    this.sent = new Counter({
      name: 'bastion_alert_notification_attempts_total',
      help: 'Alert notification delivery attempts, by channel and outcome (delivered, retry, failed).',
      labelNames: ['channel', 'outcome'],
      registers: [metrics.registry],
    });
  }

  onModuleDestroy(): void {
    for (const t of this.transports.values()) t.close();
  }

  /** Annotations of an alert for a rule, interpolated. */
  annotations(rule: Pick<AlertRule, 'annotations' | 'threshold' | 'name'>, alert: Alert): Record<string, string> {
    const out: Record<string, string> = {};
    const ctx = { value: alert.value, threshold: rule.threshold, labels: alert.labels, rule: rule.name };
    for (const [k, v] of Object.entries(rule.annotations)) if (typeof v === 'string') out[k] = interpolate(v, ctx);
    return out;
  }

  /** Writes one outbox row per target of the rule, in the caller's transaction. */
  async enqueue(
    m: EntityManager,
    rule: AlertRule,
    alert: Alert,
    kind: NotificationKind,
    silences: Silence[],
    at: Date,
  ): Promise<void> {
    if (rule.targets.length === 0) return;
    const silenced = silences.some((s) => matchersMatch(s.matchers, alert.labels));
    const payload = alertmanagerPayload(alert, kind, this.annotations(rule, alert), this.externalUrl());
    await this.outbox.enqueue(
      m,
      rule.targets.map((target) => ({
        alertId: alert.id,
        ruleId: rule.id,
        kind,
        channel: target.type,
        target,
        payload,
        status: silenced ? 'suppressed' : 'pending',
      })),
    );
    if (!silenced) await this.outbox.touchAlert(m, alert.id, at);
  }

  /** Delivers what is due, in batches, until nothing is left; concurrent calls share one run. */
  dispatchDue(): Promise<number> {
    this.dispatching ??= this.dispatchLoop().finally(() => (this.dispatching = undefined));
    return this.dispatching;
  }

  deliveries(alertId: string): Promise<Delivery[]> {
    return this.outbox.forAlert(alertId);
  }

  private async dispatchLoop(): Promise<number> {
    let done = 0;
    const lease = Math.ceil(this.config.monitoring.webhookTimeoutMs / 1000) * 3 + 30;
    for (let round = 0; round < 20; round++) {
      const batch = await this.outbox.claimDue(this.config.monitoring.instance, 10, lease);
      if (batch.length === 0) break;
      await Promise.all(batch.map((d) => this.deliver(d)));
      done += batch.length;
    }
    return done;
  }

  private async deliver(d: Delivery): Promise<void> {
    try {
      const status = d.target.type === 'webhook' ? await this.sendWebhook(d) : await this.sendEmail(d);
      await this.outbox.markDelivered(d.id, status);
      this.sent.inc({ channel: d.channel, outcome: 'delivered' });
    } catch (err) {
      const e = err as Error & { status?: number };
      const retry = d.attempts < this.config.monitoring.maxAttempts;
      const wait = backoffMs(d.attempts, this.config.monitoring.retryBaseSeconds * 1000, 3600_000);
      await this.outbox.markAttemptFailed(
        d.id,
        e.message,
        e.status ?? null,
        retry ? new Date(Date.now() + wait) : null,
      );
      this.sent.inc({ channel: d.channel, outcome: retry ? 'retry' : 'failed' });
      this.logger.warn(`notification ${d.id} (${d.channel}) attempt ${d.attempts} failed: ${e.message}`);
    }
  }

  private async sendWebhook(d: Delivery): Promise<number> {
    if (d.target.type !== 'webhook') throw new Error('not a webhook target');
    const url = new URL(d.target.url);
    if (this.config.monitoring.webhookBlockPrivate)
      await assertPublicDestination(url, 'MONITORING_WEBHOOK_BLOCK_PRIVATE');
    const body = JSON.stringify(d.payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'Bastion-Alerts',
      'X-Bastion-Delivery': d.id,
      'X-Bastion-Timestamp': timestamp,
    };
    if (d.target.secret) {
      const secret = this.encryption.decryptText(TARGET_SECRET_PURPOSE, d.target.secret, d.ruleId ?? '');
      headers['X-Bastion-Signature'] = signWebhook(secret, timestamp, body);
    }
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.config.monitoring.webhookTimeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) {
      throw Object.assign(new Error(`webhook answered ${res.status}`), { status: res.status });
    }
    return res.status;
  }

  private async sendEmail(d: Delivery): Promise<null> {
    if (d.target.type !== 'email') throw new Error('not an email target');
    const url = d.target.smtpUrl
      ? this.encryption.decryptText(TARGET_SECRET_PURPOSE, d.target.smtpUrl, d.ruleId ?? '')
      : this.config.monitoring.smtpUrl;
    if (!url) throw new Error('no SMTP server: set SMTP_URL or the target smtpUrl');
    let transport = this.transports.get(url);
    if (!transport) {
      transport = createTransport(url);
      this.transports.set(url, transport);
    }
    const { subject, text } = alertEmail(d.payload);
    await transport.sendMail({ from: this.config.monitoring.smtpFrom, to: d.target.to, subject, text });
    return null;
  }

  private externalUrl(): string {
    return `http://${this.config.http.host === '0.0.0.0' ? 'localhost' : this.config.http.host}:${this.config.http.port}`;
  }
}
