import { CronExpressionParser } from 'cron-parser';

/**
 * When schedules run: a frequency at a local time of day in an IANA time zone, or a cron
 * expression, evaluated by cron-parser in that zone (DST-correct: 06:30 Europe/London is 05:30
 * UTC in summer and 06:30 in winter; a time skipped by a spring-forward runs once, at the first
 * instant after). Pure.
 */
export type Frequency = 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly' | 'cron';
export const FREQUENCIES: Frequency[] = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'cron'];

/** The cron expression of a frequency at `HH:MM` (weekly on Mondays; monthly and later on the 1st). */
export function cronFor(frequency: Exclude<Frequency, 'cron'>, time: string): string {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!m) throw new Error('time must be HH:MM (24-hour)');
  const [h, min] = [Number(m[1]), Number(m[2])];
  switch (frequency) {
    case 'daily':
      return `${min} ${h} * * *`;
    case 'weekly':
      return `${min} ${h} * * 1`;
    case 'monthly':
      return `${min} ${h} 1 * *`;
    case 'quarterly':
      return `${min} ${h} 1 1,4,7,10 *`;
    case 'yearly':
      return `${min} ${h} 1 1 *`;
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Checks a cron expression (5 or 6 fields); the error message, or null. */
export function cronError(expression: string, tz: string): string | null {
  if (expression.trim().split(/\s+/).length < 5) return 'cron must have 5 fields (minute hour day month weekday)';
  try {
    CronExpressionParser.parse(expression, { tz });
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The next `count` run times strictly after `after`. */
export function nextRuns(expression: string, tz: string, after: Date, count = 1): Date[] {
  const it = CronExpressionParser.parse(expression, { tz, currentDate: after });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) out.push(it.next().toDate());
  return out;
}
