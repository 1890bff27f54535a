import {
  backoffMs,
  conditionHolds,
  fingerprint,
  interpolate,
  matchersMatch,
  nextTransition,
  parseSeriesKey,
  seriesKey,
} from '../../../src/monitoring/alerts/alert-logic';

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('conditionHolds', () => {
  it.each([
    ['>', 81, 80, true],
    ['>', 80, 80, false],
    ['>=', 80, 80, true],
    ['<', 0, 1, true],
    ['<=', 2, 1, false],
    ['==', 0, 0, true],
    ['!=', 0, 0, false],
  ] as const)('%s: %d vs %d is %s', (op, value, threshold, expected) => {
    expect(conditionHolds(op, value, threshold)).toBe(expected);
  });

  it('never holds on NaN or infinity', () => {
    expect(conditionHolds('>', Number.NaN, 0)).toBe(false);
    expect(conditionHolds('!=', Number.NaN, 0)).toBe(false);
    expect(conditionHolds('>', Infinity, 0)).toBe(false);
  });
});

describe('nextTransition: the lifecycle of one fingerprint', () => {
  const FOR = 300_000;
  const HOUR = 3_600_000;

  it('opens pending when the condition starts to hold, and does nothing while it does not', () => {
    expect(nextTransition(null, false, at(0), FOR, HOUR)).toEqual({ kind: 'none' });
    expect(nextTransition(null, true, at(0), FOR, HOUR)).toEqual({ kind: 'open', state: 'pending' });
  });

  it('opens firing at once when `for` is 0', () => {
    expect(nextTransition(null, true, at(0), 0, HOUR)).toEqual({ kind: 'open', state: 'firing' });
  });

  it('stays pending until `for` has passed, then fires', () => {
    const pending = { state: 'pending' as const, startedAt: at(0), lastNotifiedAt: null };
    expect(nextTransition(pending, true, at(299), FOR, HOUR)).toEqual({ kind: 'update', remind: false });
    expect(nextTransition(pending, true, at(300), FOR, HOUR)).toEqual({ kind: 'fire' });
  });

  it('drops a pending alert silently when the condition clears (never fired: no notification)', () => {
    const pending = { state: 'pending' as const, startedAt: at(0), lastNotifiedAt: null };
    expect(nextTransition(pending, false, at(10), FOR, HOUR)).toEqual({ kind: 'resolve', notify: false });
  });

  it('resolves a firing or acknowledged alert with a notification when the condition clears', () => {
    for (const state of ['firing', 'acknowledged'] as const) {
      expect(nextTransition({ state, startedAt: at(0), lastNotifiedAt: at(300) }, false, at(900), FOR, HOUR)).toEqual({
        kind: 'resolve',
        notify: true,
      });
    }
  });

  it('reminds while firing unacknowledged once the reminder interval has passed, never when acknowledged', () => {
    const firing = { state: 'firing' as const, startedAt: at(0), lastNotifiedAt: at(0) };
    expect(nextTransition(firing, true, new Date(at(0).getTime() + HOUR - 1), FOR, HOUR)).toEqual({
      kind: 'update',
      remind: false,
    });
    expect(nextTransition(firing, true, new Date(at(0).getTime() + HOUR), FOR, HOUR)).toEqual({
      kind: 'update',
      remind: true,
    });
    const acked = { ...firing, state: 'acknowledged' as const };
    expect(nextTransition(acked, true, new Date(at(0).getTime() + 2 * HOUR), FOR, HOUR)).toEqual({
      kind: 'update',
      remind: false,
    });
    expect(nextTransition(firing, true, new Date(at(0).getTime() + 9 * HOUR), FOR, 0)).toEqual({
      kind: 'update',
      remind: false,
    });
  });

  it('does not remind an alert whose notifications were all silenced (nothing was sent)', () => {
    const firing = { state: 'firing' as const, startedAt: at(0), lastNotifiedAt: null };
    expect(nextTransition(firing, true, new Date(at(0).getTime() + 5 * HOUR), FOR, HOUR)).toEqual({
      kind: 'update',
      remind: false,
    });
  });
});

describe('fingerprint', () => {
  it('is the same whatever the label order, and differs by rule or label value', () => {
    const a = fingerprint('r1', { instance: 'a', alertname: 'X' });
    expect(fingerprint('r1', { alertname: 'X', instance: 'a' })).toBe(a);
    expect(fingerprint('r2', { alertname: 'X', instance: 'a' })).not.toBe(a);
    expect(fingerprint('r1', { alertname: 'X', instance: 'b' })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('interpolate', () => {
  const ctx = { value: 91.2345, threshold: 80, labels: { instance: 'db-1' }, rule: 'HostCpuHigh' };

  it('fills value (2 decimals), threshold, rule and labels', () => {
    expect(interpolate('{{ rule }}: CPU {{value}}% > {{ threshold }}% on {{ labels.instance }}', ctx)).toBe(
      'HostCpuHigh: CPU 91.23% > 80% on db-1',
    );
  });

  it('leaves unknown placeholders and shows missing labels as empty, null values as n/a', () => {
    expect(interpolate('{{ nope }} [{{ labels.mount }}] {{ value }}', { ...ctx, value: null })).toBe(
      '{{ nope }} [] n/a',
    );
  });
});

describe('matchersMatch (silences)', () => {
  const labels = { alertname: 'HostCpuHigh', instance: 'db-1', severity: 'warning' };

  it('needs every matcher: equality, negation and anchored regexes', () => {
    expect(matchersMatch([{ name: 'alertname', value: 'HostCpuHigh' }], labels)).toBe(true);
    expect(
      matchersMatch(
        [
          { name: 'alertname', value: 'HostCpuHigh' },
          { name: 'instance', value: 'db-2' },
        ],
        labels,
      ),
    ).toBe(false);
    expect(matchersMatch([{ name: 'instance', value: 'db-.*', isRegex: true }], labels)).toBe(true);
    expect(matchersMatch([{ name: 'instance', value: 'db', isRegex: true }], labels)).toBe(false);
    expect(matchersMatch([{ name: 'severity', value: 'critical', isEqual: false }], labels)).toBe(true);
  });

  it('treats a missing label as empty and a broken regex as matching nothing', () => {
    expect(matchersMatch([{ name: 'team', value: '' }], labels)).toBe(true);
    expect(matchersMatch([{ name: 'instance', value: '(', isRegex: true }], labels)).toBe(false);
  });
});

describe('series keys', () => {
  it('round-trip with sorted, escaped labels', () => {
    const key = seriesKey('host_disk_free_bytes', { mount: '/data "x"', b: '1' });
    expect(key).toBe('host_disk_free_bytes{b="1",mount="/data \\"x\\""}');
    expect(parseSeriesKey(key)).toEqual({ metric: 'host_disk_free_bytes', labels: { b: '1', mount: '/data "x"' } });
    expect(parseSeriesKey('ready')).toEqual({ metric: 'ready', labels: {} });
  });
});

describe('backoffMs', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 10_000, 60_000))).toEqual([10_000, 20_000, 40_000, 60_000]);
  });
});
