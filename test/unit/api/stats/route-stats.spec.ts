import { RouteStats, statusClassOf } from '../../../../src/api/stats/route-stats';

describe('RouteStats', () => {
  it('classifies final statuses and leaves 1xx and non-standard codes out of the classes', () => {
    expect([200, 204, 301, 304, 400, 401, 404, 429, 500, 503].map(statusClassOf)).toEqual([
      '2xx',
      '2xx',
      '3xx',
      '3xx',
      '4xx',
      '4xx',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
    ]);
    expect([101, 199, 600, 999].map(statusClassOf)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('starts at zero with null latencies', () => {
    expect(new RouteStats().snapshot()).toEqual({
      requests: 0,
      statusClasses: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
      latencyMs: { p50: null, p95: null, p99: null, max: null },
    });
  });

  it('counts requests by class and reports latencies in milliseconds', () => {
    const stats = new RouteStats();
    // 6 OK at 1.5 ms, a 401 at 0.2 ms, a 400 at 0.3 ms, a 500 at 80 ms and a 304 at 1 ms.
    for (let i = 0; i < 6; i++) stats.record(200, 1.5);
    stats.record(401, 0.2);
    stats.record(400, 0.3);
    stats.record(500, 80);
    stats.record(304, 1);
    const snap = stats.snapshot();
    expect(snap.requests).toBe(10);
    expect(snap.statusClasses).toEqual({ '2xx': 6, '3xx': 1, '4xx': 2, '5xx': 1 });
    // Nearest rank over 10 values: p50 is the 5th (1.5 ms), p95 and p99 the 10th (80 ms). 1.5 ms
    // lies in HdrHistogram's bucket [1.496, 1.504) ms, answered with its highest value; 80 ms is
    // the maximum, which the answer never exceeds.
    expect(snap.latencyMs.p50).toBe(1.503);
    expect(Math.abs(snap.latencyMs.p50! - 1.5) / 1.5).toBeLessThanOrEqual(1 / 64);
    expect(snap.latencyMs.p95).toBe(80);
    expect(snap.latencyMs.p99).toBe(80);
    expect(snap.latencyMs.max).toBe(80);
  });

  it('snapshots are copies: later requests do not change an earlier snapshot', () => {
    const stats = new RouteStats();
    stats.record(200, 1);
    const before = stats.snapshot();
    stats.record(500, 1);
    expect(before.statusClasses['5xx']).toBe(0);
    expect(stats.snapshot().statusClasses['5xx']).toBe(1);
  });
});
