/**
 * A log-linear latency histogram in the manner of HdrHistogram, over whole microseconds.
 *
 * Layout: values below 32 µs each have a bucket of their own (exact). Above that, every power of
 * two [2^m, 2^(m+1)) is cut into 32 equal buckets of width 2^(m-5), so a bucket is never wider
 * than 1/32 of its lower bound. A percentile is answered with the middle of its bucket, so it is
 * within ±1/64 (1.6 %) of the true order statistic, and never outside the smallest and largest
 * value recorded. Values are clamped to [0, 2^32 - 1] µs (about 71 minutes).
 *
 * Cost: recording is a few integer operations and one array increment; memory is fixed at 896
 * counters (7 KiB), allocated on the first value, whatever the number of values recorded.
 */
export const SUB_BUCKET_BITS = 5;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 32
/** Largest value kept as is; larger ones are recorded as this. */
export const MAX_TRACKABLE_MICROS = 2 ** 32 - 1;
/** 32 exact buckets, then 32 per power of two from 2^5 to 2^31. */
export const BUCKET_COUNT = (32 - SUB_BUCKET_BITS + 1) * SUB_BUCKETS;

/** The bucket of a whole, non-negative value up to {@link MAX_TRACKABLE_MICROS}. */
export function bucketIndex(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const magnitude = 31 - Math.clz32(value); // floor(log2(value)), 5..31
  const shift = magnitude - SUB_BUCKET_BITS;
  return shift * SUB_BUCKETS + (value >>> shift);
}

/** The smallest value and the width of bucket `index` (the inverse of {@link bucketIndex}). */
export function bucketRange(index: number): { lower: number; width: number } {
  if (index < SUB_BUCKETS) return { lower: index, width: 1 };
  const octave = Math.floor(index / SUB_BUCKETS); // 1.. : magnitude - 4
  const width = 2 ** (octave - 1);
  const sub = (index % SUB_BUCKETS) + SUB_BUCKETS; // 32..63
  return { lower: sub * width, width };
}

export class LatencyHistogram {
  private counts: Float64Array | undefined; // Float64: exact counts up to 2^53
  private total = 0;
  private sum = 0;
  private low = Infinity;
  private high = -Infinity;

  /** Records one duration in microseconds (rounded; negative and non-finite values count as 0). */
  record(micros: number): void {
    const value = Number.isFinite(micros) ? Math.min(Math.max(Math.round(micros), 0), MAX_TRACKABLE_MICROS) : 0;
    this.counts ??= new Float64Array(BUCKET_COUNT);
    this.counts[bucketIndex(value)] += 1;
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
   * The value at quantile `q` (0 < q ≤ 1) by nearest rank: the smallest recorded value with at
   * least q of all values at or below it, to within the bucket precision described above.
   * `percentile(1)` is the exact maximum. Undefined when empty.
   */
  percentile(q: number): number | undefined {
    if (!(q > 0 && q <= 1)) throw new RangeError(`quantile must be in (0, 1], got ${q}`);
    if (this.total === 0 || !this.counts) return undefined;
    if (q === 1) return this.high;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const { lower, width } = bucketRange(i);
        const middle = lower + (width - 1) / 2;
        return Math.min(Math.max(middle, this.low), this.high);
      }
    }
    return this.high; // not reached: the counts add up to total
  }
}
