import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  resetAt: number;
}

/**
 * @nestjs/throttler storage in process, as fixed windows: one counter per key, O(1) per hit at any
 * traffic level (the package's ThrottlerStorageService keeps and filters one timestamp per hit,
 * which grows costly for high-limit keys). Expired windows are swept once a minute.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string) {
    const now = Date.now();
    const id = `${throttlerName}:${key}`;
    let window = this.windows.get(id);
    if (!window || window.resetAt <= now) {
      window = { hits: 0, resetAt: now + ttl };
      this.windows.set(id, window);
    }
    window.hits += 1;
    const seconds = Math.ceil((window.resetAt - now) / 1000);
    const blocked = window.hits > limit;
    return {
      totalHits: window.hits,
      timeToExpire: seconds,
      isBlocked: blocked,
      timeToBlockExpire: blocked ? seconds : 0,
    };
  }

  close(): void {
    clearInterval(this.sweeper);
    this.windows.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, window] of this.windows) if (window.resetAt <= now) this.windows.delete(id);
  }
}
