import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { AlertLevel, AlertState } from '../monitoring.events';
import type { Matcher } from './alert-logic';

export interface Alert {
  id: string;
  ruleId: string | null;
  ruleName: string;
  fingerprint: string;
  labels: Record<string, string>;
  state: AlertState;
  level: AlertLevel;
  value: number | null;
  summary: string | null;
  description: string | null;
  startedAt: Date;
  firedAt: Date | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  acknowledgeNote: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolveNote: string | null;
  lastEvaluatedAt: Date;
  lastNotifiedAt: Date | null;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string | null;
  comment: string;
  createdAt: Date;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

interface AlertRow {
  id: string;
  rule_id: string | null;
  rule_name: string;
  fingerprint: string;
  labels: Record<string, string>;
  state: AlertState;
  level: AlertLevel;
  value: number | string | null;
  summary: string | null;
  description: string | null;
  started_at: Date;
  fired_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledge_note: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolve_note: string | null;
  last_evaluated_at: Date;
  last_notified_at: Date | null;
}

interface SilenceRow {
  id: string;
  matchers: Matcher[];
  starts_at: Date;
  ends_at: Date;
  created_by: string | null;
  comment: string;
  created_at: Date;
}

const mapAlert = (r: AlertRow): Alert => ({
  id: r.id,
  ruleId: r.rule_id,
  ruleName: r.rule_name,
  fingerprint: r.fingerprint.trim(),
  labels: r.labels,
  state: r.state,
  level: r.level,
  value: r.value === null ? null : Number(r.value),
  summary: r.summary,
  description: r.description,
  startedAt: new Date(r.started_at),
  firedAt: date(r.fired_at),
  acknowledgedAt: date(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by,
  acknowledgeNote: r.acknowledge_note,
  resolvedAt: date(r.resolved_at),
  resolvedBy: r.resolved_by,
  resolveNote: r.resolve_note,
  lastEvaluatedAt: new Date(r.last_evaluated_at),
  lastNotifiedAt: date(r.last_notified_at),
});

const mapSilence = (r: SilenceRow): Silence => ({
  id: r.id,
  matchers: r.matchers,
  startsAt: new Date(r.starts_at),
  endsAt: new Date(r.ends_at),
  createdBy: r.created_by,
  comment: r.comment,
  createdAt: new Date(r.created_at),
});

export interface AlertFilter {
  state?: AlertState;
  level?: AlertLevel;
  ruleId?: string;
  from?: Date;
  to?: Date;
  after?: { k: string; id: string };
  limit: number;
}

/** Alerts (`alerts`) and silences (`alert_silences`). */
/** Advisory-lock key of alert evaluation (one evaluation at a time across instances). */
const EVALUATION_LOCK = 7_314_001_400;

@Injectable()
export class AlertsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One evaluation at a time across instances: a transaction-scoped advisory lock, false if held. */
  async tryEvaluationLock(manager: EntityManager): Promise<boolean> {
    const [lock] = await manager.query<{ ok: boolean }[]>(`SELECT pg_try_advisory_xact_lock($1) AS ok`, [
      EVALUATION_LOCK,
    ]);
    return lock?.ok === true;
  }

  /** Open alerts (not resolved) of the given rules, locked for the evaluation's transaction. */
  async openForRules(m: EntityManager, ruleIds: string[]): Promise<Alert[]> {
    const rows = await m.query<AlertRow[]>(
      `SELECT * FROM alerts WHERE state <> 'resolved' AND rule_id = ANY($1::uuid[]) FOR UPDATE`,
      [ruleIds],
    );
    return rows.map(mapAlert);
  }

  async insert(
    m: EntityManager,
    a: Pick<Alert, 'ruleId' | 'ruleName' | 'fingerprint' | 'labels' | 'state' | 'level' | 'value' | 'summary'> & {
      description: string | null;
      at: Date;
    },
  ): Promise<Alert> {
    const rows = await m.query<AlertRow[]>(
      `INSERT INTO alerts (rule_id, rule_name, fingerprint, labels, state, level, value, summary, description,
                           started_at, fired_at, last_evaluated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $10) RETURNING *`,
      [
        a.ruleId,
        a.ruleName,
        a.fingerprint,
        JSON.stringify(a.labels),
        a.state,
        a.level,
        a.value,
        a.summary,
        a.description,
        a.at,
        a.state === 'firing' ? a.at : null,
      ],
    );
    return mapAlert(rows[0]);
  }

  /** Sets the given columns (snake_case) and `updated_at`. */
  async patch(m: EntityManager, id: string, set: Record<string, unknown>): Promise<Alert> {
    const cols = Object.keys(set);
    // TypeORM answers an UPDATE with [rows, affected].
    const [rows] = await m.query<[AlertRow[], number]>(
      `UPDATE alerts SET ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, ...cols.map((c) => set[c])],
    );
    return mapAlert(rows[0]);
  }

  async find(id: string, m?: EntityManager, lock = false): Promise<Alert | undefined> {
    const rows = await (m ?? this.dataSource).query<AlertRow[]>(
      `SELECT * FROM alerts WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ? mapAlert(rows[0]) : undefined;
  }

  async list(f: AlertFilter): Promise<Alert[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.state) add('state = ?', f.state);
    if (f.level) add('level = ?', f.level);
    if (f.ruleId) add('rule_id = ?', f.ruleId);
    if (f.from) add('started_at >= ?', f.from);
    if (f.to) add('started_at < ?', f.to);
    if (f.after) {
      params.push(f.after.k, f.after.id);
      where.push(`(started_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(f.limit + 1);
    const rows = await this.dataSource.query<AlertRow[]>(
      `SELECT * FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY started_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(mapAlert);
  }

  /** Open alerts counted by level and state, for the dashboard. */
  async countOpen(): Promise<{ level: AlertLevel; state: AlertState; n: number }[]> {
    const rows = await this.dataSource.query<{ level: AlertLevel; state: AlertState; n: string }[]>(
      `SELECT level, state, count(*) AS n FROM alerts WHERE state <> 'resolved' GROUP BY level, state`,
    );
    return rows.map((r) => ({ level: r.level, state: r.state, n: Number(r.n) }));
  }

  async activeSilences(m: EntityManager | undefined, at: Date): Promise<Silence[]> {
    const rows = await (m ?? this.dataSource).query<SilenceRow[]>(
      `SELECT * FROM alert_silences WHERE starts_at <= $1 AND ends_at > $1`,
      [at],
    );
    return rows.map(mapSilence);
  }

  async listSilences(includeExpired: boolean): Promise<Silence[]> {
    const rows = await this.dataSource.query<SilenceRow[]>(
      `SELECT * FROM alert_silences ${includeExpired ? '' : 'WHERE ends_at > now()'} ORDER BY created_at DESC LIMIT 500`,
    );
    return rows.map(mapSilence);
  }

  async insertSilence(m: EntityManager, s: Omit<Silence, 'id' | 'createdAt'>): Promise<Silence> {
    const rows = await m.query<SilenceRow[]>(
      `INSERT INTO alert_silences (matchers, starts_at, ends_at, created_by, comment)
       VALUES ($1::jsonb, $2, $3, $4, $5) RETURNING *`,
      [JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.createdBy, s.comment],
    );
    return mapSilence(rows[0]);
  }

  async findSilence(m: EntityManager, id: string): Promise<Silence | undefined> {
    const rows = await m.query<SilenceRow[]>(`SELECT * FROM alert_silences WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ? mapSilence(rows[0]) : undefined;
  }

  /** Expires a silence now (kept for history). */
  async expireSilence(m: EntityManager, id: string): Promise<void> {
    await m.query(
      `UPDATE alert_silences SET ends_at = greatest(starts_at + interval '1 millisecond', now()) WHERE id = $1`,
      [id],
    );
  }
}
