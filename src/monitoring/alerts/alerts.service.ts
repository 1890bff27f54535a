import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { MetricsRegistry } from '../../common/metrics/metrics-registry';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { AuditService } from '../../security/audit/audit.service';
import { MetricsService } from '../metrics/metrics.service';
import { type AlertChangedEvent, type AlertLevel, type AlertState, MonitoringEvents } from '../monitoring.events';
import { NotificationsService } from '../notifications/notifications.service';
import { conditionHolds, fingerprint, type Matcher, nextTransition, parseSeriesKey } from './alert-logic';
import { type AlertRule, AlertRulesRepository } from './alert-rules.repository';
import { type Alert, AlertsRepository, type Silence } from './alerts.repository';

/** Key of the advisory lock that makes one evaluation run at a time across instances. */

export interface EvaluationResult {
  rules: number;
  changed: number;
}

/**
 * Evaluates enabled rules against the newest stored samples and drives the alert lifecycle
 * (pending → firing → acknowledged → resolved), writing notifications to the outbox in the same
 * transaction; acknowledgement, manual resolution and silences, each audited.
 */
@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);
  private readonly evaluations: Counter;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
    private readonly rules: AlertRulesRepository,
    private readonly alerts: AlertsRepository,
    private readonly metrics: MetricsService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditService,
    private readonly events: EventEmitter2,
    registry: MetricsRegistry,
  ) {
    this.evaluations = new Counter({
      name: 'bastion_alert_evaluations_total',
      help: 'Alert rule evaluations run by this instance.',
      registers: [registry.registry],
    });
  }

  /**
   * One evaluation of every enabled rule. Returns null when another instance holds the evaluation
   * lock (it is evaluating now).
   */
  async evaluate(now = new Date()): Promise<EvaluationResult | null> {
    const rules = await this.rules.enabled();
    const samples = await this.metrics.latestStored(now);
    const changed: Alert[] = [];
    const result = await this.dataSource.transaction(async (m) => {
      if (!(await this.alerts.tryEvaluationLock(m))) return null;
      const open = await this.alerts.openForRules(
        m,
        rules.map((r) => r.id),
      );
      const openByFp = new Map(open.map((a) => [a.fingerprint, a]));
      const silences = await this.alerts.activeSilences(m, now);
      const reminderMs = this.config.monitoring.reminderMinutes * 60_000;
      for (const rule of rules) {
        const seen = new Set<string>();
        for (const sample of samples) {
          for (const [key, value] of Object.entries(sample.values)) {
            const parsed = parseSeriesKey(key);
            if (parsed.metric !== rule.metric) continue;
            const seriesLabels: Record<string, string> = { ...parsed.labels, instance: sample.instance };
            if (!Object.entries(rule.matchers).every(([k, v]) => seriesLabels[k] === v)) continue;
            const labels = { ...seriesLabels, ...rule.labels, alertname: rule.name, severity: rule.level };
            const fp = fingerprint(rule.id, labels);
            seen.add(fp);
            const current = openByFp.get(fp);
            const holds = conditionHolds(rule.operator, value, rule.threshold);
            const transition = nextTransition(
              current
                ? {
                    state: current.state as Exclude<AlertState, 'resolved'>,
                    startedAt: current.startedAt,
                    lastNotifiedAt: current.lastNotifiedAt,
                  }
                : null,
              holds,
              now,
              rule.forSeconds * 1000,
              reminderMs,
            );
            const after = await this.apply(m, rule, current, transition, labels, fp, value, now, silences);
            if (after) changed.push(after);
          }
        }
        // Open alerts whose series is no longer reported: the condition is no longer observed.
        for (const a of open) {
          if (a.ruleId !== rule.id || seen.has(a.fingerprint)) continue;
          const after = await this.apply(
            m,
            rule,
            a,
            { kind: 'resolve', notify: a.state !== 'pending' },
            a.labels,
            a.fingerprint,
            a.value,
            now,
            silences,
          );
          if (after) changed.push(after);
        }
      }
      return { rules: rules.length, changed: changed.length };
    });
    if (result) {
      this.evaluations.inc();
      for (const a of changed) this.emit(a);
      if (changed.length > 0) this.kickDispatch();
    }
    return result;
  }

  async acknowledge(id: string, userId: string, note: string | undefined): Promise<Alert> {
    const alert = await this.dataSource.transaction(async (m) => {
      const current = await this.alerts.find(id, m, true);
      if (!current) throw AppException.notFound('alert');
      if (current.state !== 'firing') {
        throw new AppException(
          ErrorCode.AlertStateConflict,
          `Only a firing alert can be acknowledged (this one is ${current.state}).`,
        );
      }
      const updated = await this.alerts.patch(m, id, {
        state: 'acknowledged',
        acknowledged_at: new Date(),
        acknowledged_by: userId,
        acknowledge_note: note ?? null,
      });
      await this.audit.record(m, {
        action: 'alert.acknowledged',
        targetType: 'alert',
        targetId: id,
        details: { rule: current.ruleName, note: note ?? null },
      });
      return updated;
    });
    this.emit(alert);
    return alert;
  }

  async resolve(id: string, userId: string, note: string | undefined): Promise<Alert> {
    const alert = await this.dataSource.transaction(async (m) => {
      const current = await this.alerts.find(id, m, true);
      if (!current) throw AppException.notFound('alert');
      if (current.state === 'resolved') {
        throw new AppException(ErrorCode.AlertStateConflict, 'The alert is already resolved.');
      }
      const now = new Date();
      const updated = await this.alerts.patch(m, id, {
        state: 'resolved',
        resolved_at: now,
        resolved_by: userId,
        resolve_note: note ?? null,
      });
      const rule = current.ruleId ? await this.rules.find(current.ruleId, m) : undefined;
      if (rule && current.state !== 'pending') {
        await this.notifications.enqueue(m, rule, updated, 'resolved', await this.alerts.activeSilences(m, now), now);
      }
      await this.audit.record(m, {
        action: 'alert.resolved',
        targetType: 'alert',
        targetId: id,
        details: { rule: current.ruleName, note: note ?? null, manual: true },
      });
      return updated;
    });
    this.emit(alert);
    this.kickDispatch();
    return alert;
  }

  async get(id: string): Promise<Alert> {
    const alert = await this.alerts.find(id);
    if (!alert) throw AppException.notFound('alert');
    return alert;
  }

  async list(q: {
    state?: AlertState;
    level?: AlertLevel;
    rule?: string;
    from?: string;
    to?: string;
    limit?: number;
    cursor?: string;
  }): Promise<Page<Alert>> {
    const limit = q.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.alerts.list({
      state: q.state,
      level: q.level,
      ruleId: q.rule,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      after: decodeCursor(q.cursor, 'time'),
      limit,
    });
    return toPage(
      rows,
      limit,
      (a) => ({ k: a.startedAt.toISOString(), id: a.id }),
      (a) => a,
    );
  }

  countOpen(): ReturnType<AlertsRepository['countOpen']> {
    return this.alerts.countOpen();
  }

  listSilences(includeExpired: boolean): Promise<Silence[]> {
    return this.alerts.listSilences(includeExpired);
  }

  async createSilence(
    input: { matchers: Matcher[]; startsAt?: Date; endsAt: Date; comment: string },
    userId: string,
  ): Promise<Silence> {
    const startsAt = input.startsAt ?? new Date();
    if (!(input.endsAt > startsAt) || input.endsAt.getTime() <= Date.now()) {
      throw AppException.validation([{ field: 'endsAt', message: 'endsAt must be in the future and after startsAt' }]);
    }
    return this.dataSource.transaction(async (m) => {
      const silence = await this.alerts.insertSilence(m, { ...input, startsAt, createdBy: userId });
      await this.audit.record(m, {
        action: 'silence.created',
        targetType: 'alert_silence',
        targetId: silence.id,
        details: {
          matchers: silence.matchers,
          startsAt: silence.startsAt.toISOString(),
          endsAt: silence.endsAt.toISOString(),
          comment: silence.comment,
        },
      });
      return silence;
    });
  }

  async expireSilence(id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const silence = await this.alerts.findSilence(m, id);
      if (!silence) throw AppException.notFound('silence');
      await this.alerts.expireSilence(m, id);
      await this.audit.record(m, {
        action: 'silence.expired',
        targetType: 'alert_silence',
        targetId: id,
        details: { matchers: silence.matchers, comment: silence.comment },
      });
    });
  }

  private async apply(
    m: EntityManager,
    rule: AlertRule,
    current: Alert | undefined,
    t: ReturnType<typeof nextTransition>,
    labels: Record<string, string>,
    fp: string,
    value: number | null,
    now: Date,
    silences: Silence[],
  ): Promise<Alert | undefined> {
    const text = (a: Pick<Alert, 'value' | 'labels'>): { summary: string | null; description: string | null } => {
      const ann = this.notifications.annotations(rule, a as Alert);
      return { summary: ann.summary ?? null, description: ann.description ?? null };
    };
    switch (t.kind) {
      case 'none':
        return undefined;
      case 'open': {
        const alert = await this.alerts.insert(m, {
          ruleId: rule.id,
          ruleName: rule.name,
          fingerprint: fp,
          labels,
          state: t.state,
          level: rule.level,
          value,
          ...text({ value, labels }),
          at: now,
        });
        if (t.state === 'firing') await this.notifications.enqueue(m, rule, alert, 'firing', silences, now);
        return alert;
      }
      case 'fire': {
        const alert = await this.alerts.patch(m, current!.id, {
          state: 'firing',
          fired_at: now,
          value,
          last_evaluated_at: now,
          ...text({ value, labels }),
        });
        await this.notifications.enqueue(m, rule, alert, 'firing', silences, now);
        return alert;
      }
      case 'update': {
        const alert = await this.alerts.patch(m, current!.id, {
          value,
          last_evaluated_at: now,
          ...text({ value, labels }),
        });
        if (t.remind) await this.notifications.enqueue(m, rule, alert, 'reminder', silences, now);
        return undefined;
      }
      case 'resolve': {
        const alert = await this.alerts.patch(m, current!.id, {
          state: 'resolved',
          resolved_at: now,
          last_evaluated_at: now,
        });
        if (t.notify) await this.notifications.enqueue(m, rule, alert, 'resolved', silences, now);
        return alert;
      }
    }
  }

  private emit(a: Alert): void {
    const event: AlertChangedEvent = {
      id: a.id,
      ruleId: a.ruleId ?? '',
      ruleName: a.ruleName,
      state: a.state,
      level: a.level,
      labels: a.labels,
      value: a.value,
      summary: a.summary,
      at: new Date().toISOString(),
    };
    try {
      this.events.emit(MonitoringEvents.AlertChanged, event);
    } catch (err) {
      this.logger.error('a subscriber of monitoring.alert.changed failed', (err as Error).stack);
    }
  }

  private kickDispatch(): void {
    this.notifications
      .dispatchDue()
      .catch((err: Error) => this.logger.error('notification dispatch failed', err.stack));
  }
}
