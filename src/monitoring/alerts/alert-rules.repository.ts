import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AlertLevel } from '../monitoring.events';
import type { Operator } from './alert-logic';

/** A notification target as stored: secrets are encryption envelopes, never plain text. */
export type StoredTarget =
  { type: 'webhook'; url: string; secret: string | null } | { type: 'email'; to: string[]; smtpUrl: string | null };

export interface AlertRule {
  id: string;
  name: string;
  description: string;
  metric: string;
  matchers: Record<string, string>;
  operator: Operator;
  threshold: number;
  forSeconds: number;
  level: AlertLevel;
  labels: Record<string, string>;
  annotations: { summary?: string; description?: string; runbookUrl?: string };
  targets: StoredTarget[];
  enabled: boolean;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  name: string;
  description: string;
  metric: string;
  matchers: Record<string, string>;
  operator: Operator;
  threshold: number;
  for_seconds: number;
  level: AlertLevel;
  labels: Record<string, string>;
  annotations: AlertRule['annotations'];
  targets: StoredTarget[];
  enabled: boolean;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const map = (r: Row): AlertRule => ({
  id: r.id,
  name: r.name,
  description: r.description,
  metric: r.metric,
  matchers: r.matchers,
  operator: r.operator,
  threshold: Number(r.threshold),
  forSeconds: r.for_seconds,
  level: r.level,
  labels: r.labels,
  annotations: r.annotations,
  targets: r.targets,
  enabled: r.enabled,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export type RuleWrite = Omit<AlertRule, 'createdAt' | 'updatedAt' | 'createdBy'> & { createdBy?: string | null };

/** Alert rules (`alert_rules`). */
@Injectable()
export class AlertRulesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(): Promise<AlertRule[]> {
    const rows = await this.dataSource.query<Row[]>(`SELECT * FROM alert_rules ORDER BY lower(name), id`);
    return rows.map(map);
  }

  async enabled(): Promise<AlertRule[]> {
    const rows = await this.dataSource.query<Row[]>(`SELECT * FROM alert_rules WHERE enabled ORDER BY id`);
    return rows.map(map);
  }

  async find(id: string, manager?: EntityManager, lock = false): Promise<AlertRule | undefined> {
    const rows = await (manager ?? this.dataSource).query<Row[]>(
      `SELECT * FROM alert_rules WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ? map(rows[0]) : undefined;
  }

  async nameTaken(manager: EntityManager, name: string, exceptId?: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM alert_rules WHERE lower(name) = lower($1) AND ($2::uuid IS NULL OR id <> $2)`,
      [name, exceptId ?? null],
    );
    return rows.length > 0;
  }

  async insert(manager: EntityManager, r: RuleWrite): Promise<AlertRule> {
    const rows = await manager.query<Row[]>(
      `INSERT INTO alert_rules (id, name, description, metric, matchers, operator, threshold, for_seconds, level,
                                labels, annotations, targets, enabled, created_by)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13, $14)
       RETURNING *`,
      [...this.params(r), r.createdBy ?? null],
    );
    return map(rows[0]);
  }

  async update(manager: EntityManager, r: RuleWrite): Promise<AlertRule> {
    // TypeORM answers an UPDATE with [rows, affected].
    const [rows] = await manager.query<[Row[], number]>(
      `UPDATE alert_rules SET name = $2, description = $3, metric = $4, matchers = $5::jsonb, operator = $6,
              threshold = $7, for_seconds = $8, level = $9, labels = $10::jsonb, annotations = $11::jsonb,
              targets = $12::jsonb, enabled = $13, updated_at = now()
        WHERE id = $1 RETURNING *`,
      this.params(r),
    );
    return map(rows[0]);
  }

  /** Deletes a rule; its open alerts are resolved first (their history stays, without the rule). */
  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE alerts SET state = 'resolved', resolved_at = now(), resolve_note = 'rule deleted', updated_at = now()
        WHERE rule_id = $1 AND state <> 'resolved'`,
      [id],
    );
    await manager.query(`DELETE FROM alert_rules WHERE id = $1`, [id]);
  }

  private params(r: RuleWrite): unknown[] {
    return [
      r.id,
      r.name,
      r.description,
      r.metric,
      JSON.stringify(r.matchers),
      r.operator,
      r.threshold,
      r.forSeconds,
      r.level,
      JSON.stringify(r.labels),
      JSON.stringify(r.annotations),
      JSON.stringify(r.targets),
      r.enabled,
    ];
  }
}
