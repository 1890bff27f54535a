import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Response } from 'express';
import Redis from 'ioredis';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { DependencyHealth } from '../../common/health/dependency-health.service';
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
 *
 * Redis is optional at run time: while it is unreachable, counting falls back to in-process
 * counters (each instance counts alone, so a client may get up to N times its limit across N
 * instances), the change is logged once and readiness reports `redis` as degraded; when the
 * client reconnects, counting returns to Redis. Requests never fail because Redis is down.
 */
@Injectable()
export class RateLimitService implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimitService.name);
  private readonly memory = new MemoryThrottlerStorage();
  private readonly shared?: ThrottlerStorage;
  private readonly redis?: Redis;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly dependencies: DependencyHealth,
  ) {
    if (config.redisUrl) {
      this.dependencies.declare('redis');
      this.redis = new Redis(config.redisUrl, {
        lazyConnect: false,
        // Fail fast while disconnected (the in-process counters answer), reconnect in the background.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        retryStrategy: (times) => Math.min(times * 200, 2000),
      });
      // ioredis reports every failed reconnection: the state change is logged once by DependencyHealth.
      this.redis.on('error', (err: Error & { code?: string }) => this.down(err.code ?? 'connection error'));
      this.redis.on('close', () => this.down('connection closed'));
      this.redis.on('ready', () => {
        if (this.dependencies.report('redis', true)) this.logger.log('rate limiting counts in Redis again');
      });
      this.shared = new RedisThrottlerStorage(this.redis, `${config.redisKeyPrefix}rl:`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) {
      this.redis.removeAllListeners('close');
      this.redis.removeAllListeners('error');
      this.redis.on('error', () => undefined);
      await this.redis.quit().catch(() => this.redis?.disconnect());
    }
    this.memory.close();
  }

  /**
   * The Redis connection while it is ready, for other counters shared by the instances (threat
   * detection's windows); undefined in embedded mode and while Redis is unreachable, when callers
   * count in process. A caller whose command fails reports it through `redisFailed`.
   */
  get sharedRedis(): Redis | undefined {
    return this.redis?.status === 'ready' ? this.redis : undefined;
  }

  /** A command on `sharedRedis` failed: readiness shows Redis degraded (logged once). */
  redisFailed(err: unknown): void {
    this.down((err as Error).name === 'MaxRetriesPerRequestError' ? 'timeout' : 'command failed');
  }

  /** Where counts are kept right now: `memory` in embedded mode and while Redis is unreachable. */
  get mode(): 'redis' | 'memory' {
    return this.shared && this.redis?.status === 'ready' ? 'redis' : 'memory';
  }

  private down(reason: string): void {
    if (this.dependencies.report('redis', false, reason)) {
      this.logger.warn('Redis is unreachable: rate limiting falls back to in-process counters until it returns');
    }
  }

  private async increment(key: string, limit: number, bucket: string) {
    if (this.shared && this.redis?.status === 'ready') {
      try {
        return await this.shared.increment(key, WINDOW_MS, limit, WINDOW_MS, bucket);
      } catch (err) {
        this.down((err as Error).name === 'MaxRetriesPerRequestError' ? 'timeout' : 'command failed');
      }
    }
    return this.memory.increment(key, WINDOW_MS, limit, WINDOW_MS, bucket);
  }

  async consume(bucket: string, key: string, limit: number): Promise<RateLimitResult> {
    const record = await this.increment(`${bucket}:${key}`, limit, bucket);
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
