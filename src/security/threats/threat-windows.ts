import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { RateLimitService } from '../rate-limit/rate-limit.service';
import { DistinctWindow, SlidingWindow } from './sliding-window';

/**
 * The sliding windows of threat detection, shared by every instance through Redis sorted sets
 * (one member per event or per distinct thing, scored by its time; older members are trimmed on
 * each touch and the key expires with its window), so that failures spread over instances behind
 * a load balancer add up as on one. In embedded mode, and while Redis is unreachable, each
 * instance counts in process (the previous behaviour) through the same Redis connection and
 * fallback as rate limiting.
 */
@Injectable()
export class ThreatWindows {
  private readonly prefix: string;
  private readonly counts = new Map<string, SlidingWindow>();
  private readonly distincts = new Map<string, DistinctWindow>();
  private readonly reported = new Map<string, number>();

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly limits: RateLimitService,
  ) {
    this.prefix = `${config.redisKeyPrefix}threat:`;
  }

  /** Records one event of `window` for `key` and answers how many fell in the last `windowMs`. */
  async hit(window: string, key: string, windowMs: number, now = Date.now()): Promise<number> {
    const shared = await this.zadd(`${window}:${key}`, `${now}:${randomUUID()}`, windowMs, now);
    if (shared !== undefined) return shared;
    let local = this.counts.get(`${window}:${windowMs}`);
    if (!local) this.counts.set(`${window}:${windowMs}`, (local = new SlidingWindow(windowMs)));
    return local.add(key, now);
  }

  /** Records `member` under `key` and answers how many distinct members it had in the last `windowMs`. */
  async distinct(window: string, key: string, member: string, windowMs: number, now = Date.now()): Promise<number> {
    const shared = await this.zadd(`${window}:${key}`, member, windowMs, now);
    if (shared !== undefined) return shared;
    let local = this.distincts.get(`${window}:${windowMs}`);
    if (!local) this.distincts.set(`${window}:${windowMs}`, (local = new DistinctWindow(windowMs)));
    return local.add(key, member, now).distinct;
  }

  /** True once per `key` per `windowMs` across instances: one attack is one security event. */
  async firstReport(key: string, windowMs: number, now = Date.now()): Promise<boolean> {
    const redis = this.limits.sharedRedis;
    if (redis) {
      try {
        return (await redis.set(`${this.prefix}reported:${key}`, '1', 'PX', windowMs, 'NX')) === 'OK';
      } catch (err) {
        this.limits.redisFailed(err);
      }
    }
    const last = this.reported.get(key);
    if (last !== undefined && now - last < windowMs) return false;
    this.reported.set(key, now);
    if (this.reported.size > 100_000) this.reported.delete(this.reported.keys().next().value!);
    return true;
  }

  /** Adds a member scored `now`, trims what left the window, answers the members left; undefined without Redis. */
  private async zadd(key: string, member: string, windowMs: number, now: number): Promise<number | undefined> {
    const redis = this.limits.sharedRedis;
    if (!redis) return undefined;
    const full = this.prefix + key;
    try {
      const replies = await redis
        .multi()
        .zremrangebyscore(full, '-inf', now - windowMs)
        .zadd(full, now, member)
        .zcard(full)
        .pexpire(full, windowMs)
        .exec();
      const [err, card] = replies?.[2] ?? [new Error('transaction discarded'), null];
      if (err) throw err;
      return Number(card);
    } catch (err) {
      this.limits.redisFailed(err);
      return undefined;
    }
  }
}
