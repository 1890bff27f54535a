import { cronError, cronFor, isTimeZone, nextRuns } from '../../../src/reporting/schedules/schedule-times';

describe('schedule times', () => {
  it('frequencies become cron expressions at a time of day', () => {
    expect(cronFor('daily', '06:30')).toBe('30 6 * * *');
    expect(cronFor('weekly', '07:00')).toBe('0 7 * * 1');
    expect(cronFor('monthly', '00:05')).toBe('5 0 1 * *');
    expect(cronFor('quarterly', '08:00')).toBe('0 8 1 1,4,7,10 *');
    expect(cronFor('yearly', '09:15')).toBe('15 9 1 1 *');
    expect(() => cronFor('daily', '25:00')).toThrow();
  });

  it('is DST-correct: 06:30 London is 06:30 UTC before the change and 05:30 UTC after', () => {
    const runs = nextRuns('30 6 * * *', 'Europe/London', new Date('2026-03-28T12:00:00Z'), 2);
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-03-29T05:30:00.000Z', '2026-03-30T05:30:00.000Z']);
    const before = nextRuns('30 6 * * *', 'Europe/London', new Date('2026-03-27T12:00:00Z'), 1);
    expect(before[0].toISOString()).toBe('2026-03-28T06:30:00.000Z');
  });

  it('quarterly runs on the first day of each quarter in the zone', () => {
    const runs = nextRuns(cronFor('quarterly', '08:00'), 'America/New_York', new Date('2026-02-01T00:00:00Z'), 2);
    expect(runs.map((d) => d.toISOString())).toEqual(['2026-04-01T12:00:00.000Z', '2026-07-01T12:00:00.000Z']);
  });

  it('refuses bad cron expressions and zones', () => {
    expect(cronError('61 * * * *', 'UTC')).not.toBeNull();
    expect(cronError('* *', 'UTC')).not.toBeNull();
    expect(cronError('*/5 * * * *', 'UTC')).toBeNull();
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
