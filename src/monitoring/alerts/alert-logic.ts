import { createHash } from 'node:crypto';
import type { AlertLevel, AlertState } from '../monitoring.events';

/**
 * The pure part of alerting: conditions, the alert lifecycle, fingerprints, annotation templates
 * and silence matching. No Nest, no database: tested by scenario in test/unit/monitoring.
 */

export const OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Operator = (typeof OPERATORS)[number];
export const LEVELS: readonly AlertLevel[] = ['info', 'warning', 'error', 'critical'];
export const STATES: readonly AlertState[] = ['pending', 'firing', 'acknowledged', 'resolved'];

/** Whether `value <op> threshold` holds. NaN never holds. */
export function conditionHolds(op: Operator, value: number, threshold: number): boolean {
  if (!Number.isFinite(value)) return false;
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** The open alert of a fingerprint, as the lifecycle needs it. */
export interface OpenAlert {
  state: Exclude<AlertState, 'resolved'>;
  /** When the condition started to hold (the pending time). */
  startedAt: Date;
  lastNotifiedAt: Date | null;
}

/** What an evaluation does to one fingerprint. */
export type Transition =
  | { kind: 'none' }
  /** No open alert and the condition holds: open one (firing at once when `for` is 0). */
  | { kind: 'open'; state: 'pending' | 'firing' }
  /** Pending for long enough: now firing (notify). */
  | { kind: 'fire' }
  /** Still pending or firing: refresh the value. */
  | { kind: 'update'; remind: boolean }
  /** The condition cleared: resolve (notify only when it had fired). */
  | { kind: 'resolve'; notify: boolean };

/**
 * The lifecycle of one rule and label set at one evaluation:
 * nothing → pending → firing (after `for`) → acknowledged (by hand) → resolved (condition clears,
 * or by hand). A pending alert whose condition clears is resolved without a notification, as
 * Prometheus drops it; a reminder is due while firing unacknowledged once `reminderMs` has passed
 * since the last notification (0: never).
 */
export function nextTransition(
  open: OpenAlert | null,
  holds: boolean,
  now: Date,
  forMs: number,
  reminderMs: number,
): Transition {
  if (!open) {
    if (!holds) return { kind: 'none' };
    return { kind: 'open', state: forMs <= 0 ? 'firing' : 'pending' };
  }
  if (!holds) return { kind: 'resolve', notify: open.state !== 'pending' };
  if (open.state === 'pending') {
    return now.getTime() - open.startedAt.getTime() >= forMs ? { kind: 'fire' } : { kind: 'update', remind: false };
  }
  const remind =
    open.state === 'firing' &&
    reminderMs > 0 &&
    open.lastNotifiedAt !== null &&
    now.getTime() - open.lastNotifiedAt.getTime() >= reminderMs;
  return { kind: 'update', remind };
}

/** Stable identity of a rule and label set: SHA-256 of the rule id and the sorted labels. */
export function fingerprint(ruleId: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash('sha256')
    .update(JSON.stringify([ruleId, sorted]))
    .digest('hex');
}

/**
 * Fills `{{ value }}`, `{{ threshold }}`, `{{ labels.<name> }}` and `{{ rule }}` in an annotation.
 * Unknown placeholders are left as they are; values are rounded to 2 decimals for reading.
 */
export function interpolate(
  template: string,
  context: { value: number | null; threshold: number; labels: Record<string, string>; rule: string },
): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, key: string) => {
    if (key === 'value') return context.value === null ? 'n/a' : formatNumber(context.value);
    if (key === 'threshold') return formatNumber(context.threshold);
    if (key === 'rule') return context.rule;
    if (key.startsWith('labels.')) return context.labels[key.slice('labels.'.length)] ?? '';
    return whole;
  });
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, '');
}

/** A label matcher of a silence, as Alertmanager's: `=`, `!=`, `=~` (regex), `!~`. */
export interface Matcher {
  name: string;
  value: string;
  isRegex?: boolean;
  isEqual?: boolean;
}

/** Whether every matcher matches the labels (regexes anchored, as in Alertmanager). */
export function matchersMatch(matchers: readonly Matcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => {
    const actual = labels[m.name] ?? '';
    const equal = m.isRegex ? safeRegex(m.value).test(actual) : actual === m.value;
    return m.isEqual === false ? !equal : equal;
  });
}

function safeRegex(source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    return /$^/;
  }
}

/** A series key of a sample (`name` or `name{a="x",b="y"}`) split into its metric and labels. */
export function parseSeriesKey(key: string): { metric: string; labels: Record<string, string> } {
  const brace = key.indexOf('{');
  if (brace < 0) return { metric: key, labels: {} };
  const labels: Record<string, string> = {};
  const body = key.slice(brace + 1, key.lastIndexOf('}'));
  for (const m of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]] = m[2].replace(/\\(.)/g, '$1');
  return { metric: key.slice(0, brace), labels };
}

/** The series key of a metric and labels, labels sorted: the inverse of {@link parseSeriesKey}. */
export function seriesKey(metric: string, labels: Record<string, string> = {}): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return metric;
  const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `${metric}{${names.map((n) => `${n}="${escape(labels[n])}"`).join(',')}}`;
}

/** Exponential backoff with a cap: base × 2^(attempt-1), attempt counted from 1. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
