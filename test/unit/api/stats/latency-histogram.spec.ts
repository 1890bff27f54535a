import { LatencyHistogram, MAX_TRACKABLE_MICROS } from '../../../../src/api/stats/latency-histogram';

/** The exact nearest-rank percentile of a list, for comparison. */
function exactPercentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

/** A deterministic pseudo-random generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('LatencyHistogram', () => {
  it('answers every single value within 1/128 of itself, exactly below 256 µs', () => {
    for (let v = 0; v < 256; v++) {
      const h = new LatencyHistogram();
      h.record(v);
      h.record(MAX_TRACKABLE_MICROS); // so the clamp to the recorded range does not hide the bucket
      expect(h.percentile(0.5)).toBe(v);
    }
    for (const v of [256, 1000, 1023, 12_345, 999_999, 2 ** 31, MAX_TRACKABLE_MICROS - 1]) {
      const h = new LatencyHistogram();
      h.record(v);
      h.record(MAX_TRACKABLE_MICROS);
      const answer = h.percentile(0.5)!;
      expect({ v, close: answer >= v && (answer - v) / v <= 1 / 128 }).toEqual({ v, close: true });
    }
  });

  it('answers undefined for every statistic while empty', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect([h.percentile(0.5), h.percentile(0.99), h.min, h.max, h.mean]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('answers the value itself for a single request', () => {
    const h = new LatencyHistogram();
    h.record(12_345);
    expect([h.percentile(0.5), h.percentile(0.95), h.percentile(0.99), h.max]).toEqual([
      12_345, 12_345, 12_345, 12_345,
    ]);
  });

  it('is exact below 256 µs: 1..100 µs', () => {
    const h = new LatencyHistogram();
    for (let v = 100; v >= 1; v--) h.record(v); // order does not matter
    expect(h.percentile(0.5)).toBe(50);
    expect(h.percentile(0.95)).toBe(95);
    expect(h.percentile(0.99)).toBe(99);
    expect(h.percentile(1)).toBe(100);
    expect(h.mean).toBe(50.5);
  });

  it('finds a slow tail: 980 requests at 2 ms and 20 at 250 ms', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 980; i++) h.record(2_000);
    for (let i = 0; i < 20; i++) h.record(250_000);
    // Rank 500 and 950 are 2 ms; rank 990 is in the slow group. Both values are clamped to the
    // recorded range, so a bucket holding a single distinct value answers that value.
    expect(h.percentile(0.5)).toBeCloseTo(2_000, -2);
    expect(h.percentile(0.95)).toBeCloseTo(2_000, -2);
    expect(Math.abs(h.percentile(0.99)! - 250_000) / 250_000).toBeLessThanOrEqual(1 / 64);
    expect(h.max).toBe(250_000);
    expect(h.min).toBe(2_000);
  });

  it('stays within 1/64 of the exact percentile over 100,000 log-normal latencies', () => {
    const next = random(42);
    const values: number[] = [];
    const h = new LatencyHistogram();
    for (let i = 0; i < 100_000; i++) {
      // Box-Muller: median e^8 ≈ 3 ms, a long right tail.
      const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      const v = Math.round(Math.exp(8 + 1.2 * z));
      values.push(v);
      h.record(v);
    }
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = exactPercentile(values, q);
      const estimate = h.percentile(q)!;
      expect({ q, error: Math.abs(estimate - exact) / exact <= 1 / 64 }).toEqual({ q, error: true });
    }
    expect(h.max).toBe(Math.max(...values));
  });

  it('rounds fractions, counts negative and non-finite durations as 0 and clamps huge ones', () => {
    const h = new LatencyHistogram();
    h.record(1.4);
    h.record(-5);
    h.record(Number.NaN);
    h.record(1e15);
    expect(h.count).toBe(4);
    expect(h.min).toBe(0);
    expect(h.max).toBe(MAX_TRACKABLE_MICROS);
    expect(h.percentile(0.5)).toBe(0);
    expect(h.percentile(0.75)).toBe(1);
  });

  it('refuses a quantile outside (0, 1]', () => {
    const h = new LatencyHistogram();
    h.record(1);
    expect(() => h.percentile(0)).toThrow(RangeError);
    expect(() => h.percentile(1.5)).toThrow(RangeError);
    expect(() => h.percentile(Number.NaN)).toThrow(RangeError);
  });
});
