/**
 * Counts events per key within a sliding time window, in memory, bounded: old timestamps are
 * pruned on every touch and idle keys are swept, so an attacker cycling keys cannot grow it without
 * bound past `maxKeys` (the oldest keys are dropped first).
 */
export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Records one event now and returns how many fell in the window, this one included. */
  add(key: string, now = Date.now()): number {
    const list = (this.hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    list.push(now);
    this.hits.delete(key);
    this.hits.set(key, list); // re-insert: Map order is then least-recently-used first
    if (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    return list.length;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }
}

/** Distinct members per key within a window (e.g. distinct accounts failing from one IP). */
export class DistinctWindow {
  private readonly members = new Map<string, Map<string, number>>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  add(key: string, member: string, now = Date.now()): { distinct: number } {
    const seen = this.members.get(key) ?? new Map<string, number>();
    for (const [m, t] of seen) if (now - t >= this.windowMs) seen.delete(m);
    seen.set(member, now);
    this.members.delete(key);
    this.members.set(key, seen);
    if (this.members.size > this.maxKeys) this.members.delete(this.members.keys().next().value!);
    return { distinct: seen.size };
  }

  reset(key: string): void {
    this.members.delete(key);
  }
}
