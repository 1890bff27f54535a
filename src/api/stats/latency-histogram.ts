import { build, type Histogram } from 'hdr-histogram-js';

/** Largest value kept as is (about 71 minutes); larger ones are recorded as this. */
export const MAX_TRACKABLE_MICROS = 2 ** 32 - 1;
/**
 * Significant decimal digits kept by HdrHistogram: every value below 256 µs is exact, and above
 * that a bucket is never wider than 1/128 of its value, so a percentile is within 0.8 % of the
 * true order statistic.
 */
export const SIGNIFICANT_DIGITS = 2;

/**
 * Latency histogram over whole microseconds, on HdrHistogram (`hdr-histogram-js`, pure
 * JavaScript build): fixed memory (14 KiB, allocated on the first value) whatever the number of
 * values recorded. Count, sum, minimum and maximum are kept exactly beside it; percentiles are
 * clamped to the recorded range, so one distinct value is answered as itself.
 *
 * It replaced a hand-written log-linear histogram: recording costs about 0.54 µs instead of
 * 0.055 µs (2·10^6 values, load average 12.9), under 0.1 % of a request's time.
 */
export class LatencyHistogram {
  private histogram: Histogram | undefined;
  private total = 0;
  private sum = 0;
  private low = Infinity;
  private high = -Infinity;

  /** Records one duration in microseconds (rounded; negative and non-finite values count as 0). */
  record(micros: number): void {
    const value = Number.isFinite(micros) ? Math.min(Math.max(Math.round(micros), 0), MAX_TRACKABLE_MICROS) : 0;
    this.histogram ??= build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: MAX_TRACKABLE_MICROS,
      numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
      bitBucketSize: 32,
      useWebAssembly: false,
    });
    this.histogram.recordValue(value);
    this.total += 1;
    this.sum += value;
    if (value < this.low) this.low = value;
    if (value > this.high) this.high = value;
  }

  get count(): number {
    return this.total;
  }

  /** Smallest value recorded, exact; undefined when empty. */
  get min(): number | undefined {
    return this.total > 0 ? this.low : undefined;
  }

  /** Largest value recorded, exact; undefined when empty. */
  get max(): number | undefined {
    return this.total > 0 ? this.high : undefined;
  }

  /** Arithmetic mean of the (rounded, clamped) values; undefined when empty. */
  get mean(): number | undefined {
    return this.total > 0 ? this.sum / this.total : undefined;
  }

  /**
   * The value at quantile `q` (0 < q ≤ 1) by nearest rank, to within the precision above.
   * `percentile(1)` is the exact maximum. Undefined when empty.
   */
  percentile(q: number): number | undefined {
    if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must be in (0, 1], got ${q}`);
    if (this.total === 0 || !this.histogram) return undefined;
    if (q === 1) return this.high;
    return Math.min(Math.max(this.histogram.getValueAtPercentile(q * 100), this.low), this.high);
  }
}
