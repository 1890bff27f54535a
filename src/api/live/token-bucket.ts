/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. One per socket, for the
 * messages it sends; pure (the clock is passed in) so it is tested by scenario.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes one token if there is one; otherwise says how long until there is. */
  take(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.rate) };
  }
}
