import { TokenBucket } from '../../../../src/api/live/token-bucket';

describe('TokenBucket', () => {
  it('allows a burst, then refuses with the time until the next token', () => {
    const bucket = new TokenBucket(10, 20, 0);
    for (let i = 0; i < 20; i++) expect(bucket.take(0)).toEqual({ ok: true });
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterMs: 100 });
  });

  it('refills at the rate, never above the burst', () => {
    const bucket = new TokenBucket(10, 20, 0);
    for (let i = 0; i < 20; i++) bucket.take(0);
    expect(bucket.take(100)).toEqual({ ok: true }); // one token after 100 ms
    expect(bucket.take(100).ok).toBe(false);
    // An hour idle gives back the burst, not 36,000 tokens.
    let taken = 0;
    while (bucket.take(3_600_000).ok) taken += 1;
    expect(taken).toBe(20);
  });

  it('does not refill when the clock goes backwards', () => {
    const bucket = new TokenBucket(1, 1, 1_000);
    expect(bucket.take(1_000).ok).toBe(true);
    expect(bucket.take(500).ok).toBe(false);
  });
});
