import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Response } from 'express';
import Redis from 'ioredis';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { MemoryThrottlerStorage } from './memory-throttler.storage';
import { RedisThrottlerStorage } from './redis-throttler.storage';

export interface RateLimitResult {
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  reset: number;
  allowed: boolean;
}

const WINDOW_MS = 60_000;
const REPORTED = Symbol('bastion:rate-limit-reported');

/**
 * Counting requests per IP, per route class, per user and per API key, in fixed one-minute
 * windows, through @nestjs/throttler's storage: in process in embedded mode, in Redis when
 * REDIS_URL is set so that every instance shares one count.
 */
@Injectable()
export class RateLimitService implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimitService.name);
  private readonly storage: ThrottlerStorage;
  private readonly redis?: Redis;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    if (config.redisUrl) {
      this.redis = new Redis(config.redisUrl, {
        lazyConnect: false,
        maxRetriesPerRequest: 2,
        enableOfflineQueue: true,
      });
      this.redis.on('error', (err: Error) => this.logger.warn(`redis: ${err.message}`));
      this.storage = new RedisThrottlerStorage(this.redis, `${config.redisKeyPrefix}rl:`);
    } else {
      this.storage = new MemoryThrottlerStorage();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => undefined);
    if (this.storage instanceof MemoryThrottlerStorage) this.storage.close();
  }

  get mode(): 'redis' | 'memory' {
    return this.redis ? 'redis' : 'memory';
  }

  async consume(bucket: string, key: string, limit: number): Promise<RateLimitResult> {
    const record = await this.storage.increment(`${bucket}:${key}`, WINDOW_MS, limit, WINDOW_MS, bucket);
    return {
      limit,
      remaining: Math.max(0, limit - record.totalHits),
      reset: Math.max(1, record.timeToExpire),
      allowed: record.totalHits <= limit,
    };
  }

  /**
   * Consumes one hit, reports the tightest limit seen so far on the response (RateLimit-*
   * headers), and throws 429 with Retry-After when the bucket is exhausted.
   */
  async enforce(res: Response, bucket: string, key: string, limit: number): Promise<void> {
    const result = await this.consume(bucket, key, limit);
    const holder = res as Response & { [REPORTED]?: RateLimitResult };
    const previous = holder[REPORTED];
    if (!previous || result.remaining / result.limit < previous.remaining / previous.limit || !result.allowed) {
      holder[REPORTED] = result;
      res.setHeader('RateLimit-Limit', String(result.limit));
      res.setHeader('RateLimit-Remaining', String(result.remaining));
      res.setHeader('RateLimit-Reset', String(result.reset));
    }
    if (!result.allowed) {
      throw new AppException(
        ErrorCode.RateLimited,
        `Too many requests (${bucket} limit: ${limit} per minute); retry after ${result.reset} s.`,
        {
          headers: { 'Retry-After': String(result.reset) },
          extensions: { limit: bucket },
        },
      );
    }
  }
}
