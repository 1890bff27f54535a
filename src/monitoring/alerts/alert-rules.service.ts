import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { AuditService } from '../../security/audit/audit.service';
import { EncryptionService } from '../../security/crypto/encryption.service';
import { MetricsService } from '../metrics/metrics.service';
import type { AlertRule, RuleWrite, StoredTarget } from './alert-rules.repository';
import { AlertRulesRepository } from './alert-rules.repository';
import type { CreateAlertRuleDto, NotificationTargetDto, UpdateAlertRuleDto } from './dto/alert-rule.dto';
import { mapAlertRule } from './dto/alert-rule.dto';

/** Encryption purpose of notification secrets; the rule id is the context. */
export const TARGET_SECRET_PURPOSE = 'monitoring.notification-target';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;

/** Alert rules: validation against the metric catalogue, secrets sealed, every change audited. */
@Injectable()
export class AlertRulesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rules: AlertRulesRepository,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly encryption: EncryptionService,
  ) {}

  list(): Promise<AlertRule[]> {
    return this.rules.list();
  }

  async get(id: string): Promise<AlertRule> {
    const rule = await this.rules.find(id);
    if (!rule) throw AppException.notFound('alert rule');
    return rule;
  }

  async create(input: CreateAlertRuleDto, actorId: string): Promise<AlertRule> {
    const id = randomUUID();
    const write: RuleWrite = {
      id,
      name: input.name.trim(),
      description: input.description ?? '',
      metric: input.metric,
      matchers: input.matchers ?? {},
      operator: input.operator,
      threshold: input.threshold,
      forSeconds: input.forSeconds ?? 0,
      level: input.level,
      labels: input.labels ?? {},
      annotations: { ...(input.annotations ?? {}) },
      targets: this.sealTargets(id, input.targets ?? [], []),
      enabled: input.enabled ?? true,
      createdBy: actorId,
    };
    this.validate(write);
    return this.dataSource.transaction(async (m) => {
      if (await this.rules.nameTaken(m, write.name)) throw this.nameConflict(write.name);
      const rule = await this.rules.insert(m, write);
      await this.audit.record(m, {
        action: 'alert_rule.created',
        targetType: 'alert_rule',
        targetId: rule.id,
        details: { rule: mapAlertRule(rule) },
      });
      return rule;
    });
  }

  async update(id: string, input: UpdateAlertRuleDto): Promise<AlertRule> {
    return this.dataSource.transaction(async (m) => {
      const current = await this.rules.find(id, m, true);
      if (!current) throw AppException.notFound('alert rule');
      const write: RuleWrite = {
        id,
        name: input.name?.trim() ?? current.name,
        description: input.description ?? current.description,
        metric: input.metric ?? current.metric,
        matchers: input.matchers ?? current.matchers,
        operator: input.operator ?? current.operator,
        threshold: input.threshold ?? current.threshold,
        forSeconds: input.forSeconds ?? current.forSeconds,
        level: input.level ?? current.level,
        labels: input.labels ?? current.labels,
        annotations: input.annotations ? { ...input.annotations } : current.annotations,
        targets: input.targets ? this.sealTargets(id, input.targets, current.targets) : current.targets,
        enabled: input.enabled ?? current.enabled,
      };
      this.validate(write);
      if (write.name !== current.name && (await this.rules.nameTaken(m, write.name, id))) {
        throw this.nameConflict(write.name);
      }
      const rule = await this.rules.update(m, write);
      await this.audit.record(m, {
        action: 'alert_rule.updated',
        targetType: 'alert_rule',
        targetId: id,
        details: { before: mapAlertRule(current), after: mapAlertRule(rule) },
      });
      return rule;
    });
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const current = await this.rules.find(id, m, true);
      if (!current) throw AppException.notFound('alert rule');
      await this.rules.delete(m, id);
      await this.audit.record(m, {
        action: 'alert_rule.deleted',
        targetType: 'alert_rule',
        targetId: id,
        details: { name: current.name, metric: current.metric },
      });
    });
  }

  private validate(r: RuleWrite): void {
    const descriptor = this.metrics.catalogue().find((d) => d.name === r.metric);
    const errors: { field: string; message: string }[] = [];
    if (!descriptor)
      errors.push({ field: 'metric', message: `metric must be one of the catalogue (got "${r.metric}")` });
    for (const [name, value] of Object.entries(r.matchers)) {
      if (typeof value !== 'string') errors.push({ field: `matchers.${name}`, message: 'must be a string' });
      else if (descriptor && name !== 'instance' && !descriptor.labels.includes(name)) {
        errors.push({ field: `matchers.${name}`, message: `${r.metric} has no label "${name}"` });
      }
    }
    for (const [name, value] of Object.entries(r.labels)) {
      if (!LABEL_NAME.test(name) || typeof value !== 'string' || value.length > 200) {
        errors.push({
          field: `labels.${name}`,
          message: 'labels must be names of letters, digits, _ with string values',
        });
      }
    }
    if (Object.keys(r.labels).length > 20) errors.push({ field: 'labels', message: 'at most 20 labels' });
    if (errors.length > 0) throw AppException.validation(errors);
  }

  /** Targets as stored: secrets sealed under the rule id; an omitted webhook secret keeps the stored one. */
  private sealTargets(ruleId: string, targets: NotificationTargetDto[], previous: StoredTarget[]): StoredTarget[] {
    return targets.map((t, i) => {
      if (t.type === 'webhook') {
        if (!t.url)
          throw AppException.validation([{ field: `targets.${i}.url`, message: 'a webhook target needs url' }]);
        const kept = previous.find((p) => p.type === 'webhook' && p.url === t.url) as
          Extract<StoredTarget, { type: 'webhook' }> | undefined;
        const secret = t.secret
          ? this.encryption.encrypt(TARGET_SECRET_PURPOSE, t.secret, ruleId)
          : (kept?.secret ?? null);
        return { type: 'webhook', url: t.url, secret };
      }
      if (!t.to || t.to.length === 0) {
        throw AppException.validation([{ field: `targets.${i}.to`, message: 'an email target needs recipients' }]);
      }
      const smtpUrl = t.smtpUrl ? this.encryption.encrypt(TARGET_SECRET_PURPOSE, t.smtpUrl, ruleId) : null;
      return { type: 'email', to: t.to, smtpUrl };
    });
  }

  private nameConflict(name: string): AppException {
    return new AppException(ErrorCode.Conflict, `An alert rule named "${name}" exists.`);
  }
}
