import {
  BUCKET_COUNT,
  bucketIndex,
  bucketRange,
  LatencyHistogram,
  MAX_TRACKABLE_MICROS,
} from '../../../../src/api/stats/latency-histogram';

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
  describe('bucket layout', () => {
    it('gives every value below 64 µs a bucket of its own', () => {
      for (let v = 0; v < 64; v++) expect(bucketIndex(v)).toBe(v);
      for (let i = 0; i < 64; i++) expect(bucketRange(i)).toEqual({ lower: i, width: 1 });
    });

    it('puts every value in a bucket that contains it, never wider than 1/32 of its lower bound', () => {
      const values = [64, 65, 127, 128, 1000, 1023, 1024, 12_345, 999_999, 2 ** 31 - 1, 2 ** 31, MAX_TRACKABLE_MICROS];
      for (const v of values) {
        const index = bucketIndex(v);
        const { lower, width } = bucketRange(index);
        expect({ v, inside: v >= lower && v < lower + width }).toEqual({ v, inside: true });
        expect(width / lower).toBeLessThanOrEqual(1 / 32);
      }
    });

    it('numbers buckets contiguously, with the last one holding the largest trackable value', () => {
      for (let i = 1; i < BUCKET_COUNT; i++) {
        const previous = bucketRange(i - 1);
        expect(bucketRange(i).lower).toBe(previous.lower + previous.width);
      }
      expect(bucketIndex(MAX_TRACKABLE_MICROS)).toBe(BUCKET_COUNT - 1);
      expect(BUCKET_COUNT).toBe(896);
    });
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

  it('is exact below 64 µs and answers bucket middles above: 1..100 µs', () => {
    const h = new LatencyHistogram();
    for (let v = 100; v >= 1; v--) h.record(v); // order does not matter
    // Exact answers: 50, 95, 99. 50 has a bucket of its own; 95 lies in [94, 96) and 99 in
    // [98, 100), buckets of width 2, answered with their middles.
    expect(h.percentile(0.5)).toBe(50);
    expect(h.percentile(0.95)).toBe(94.5);
    expect(h.percentile(0.99)).toBe(98.5);
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
