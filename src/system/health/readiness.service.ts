import { constants } from 'node:fs';
import { access, statfs } from 'node:fs/promises';
import { Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../common/config/app-config';
import { InjectConfig } from '../../common/config/config.module';
import { DependencyHealth } from '../../common/health/dependency-health.service';
import { DatabaseRepository } from './database.repository';

/** `up`; `degraded`: the process serves without it (Redis); `down`: not ready. */
export type CheckStatus = 'up' | 'degraded' | 'down';
export type OverallStatus = 'ok' | 'degraded' | 'error';

export interface CheckResult {
  status: CheckStatus;
  /** Our own short words (never a host, port or driver message). */
  message?: string;
  [figure: string]: unknown;
}

export interface Readiness {
  status: OverallStatus;
  checks: Record<string, CheckResult>;
  failing: string[];
  degraded: string[];
}

const DATABASE_TIMEOUT_MS = 3000;

/**
 * Everything the API needs to serve, checked on each readiness probe: the database, Redis when
 * configured (degraded, not down: rate limits fall back to memory), the heap, and the data
 * directory where something is written to it (always in embedded mode; in cluster mode only if
 * it exists, i.e. something such as generated secrets or report files uses it).
 */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger('Readiness');
  /** The message of each check that is down, as last logged: a cause is logged once, not per probe. */
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly db: DatabaseRepository,
    @InjectConfig() private readonly config: AppConfig,
    private readonly dependencies: DependencyHealth,
  ) {}

  /**
   * A check that goes down is logged once with its cause (warn); a change of cause is logged
   * again; its recovery once (info). Probes every few seconds then leave only their request lines.
   */
  private reportChanges(checks: Record<string, CheckResult>): void {
    for (const [name, result] of Object.entries(checks)) {
      const previous = this.reported.get(name);
      if (result.status === 'down') {
        const cause = result.message ?? 'down';
        if (previous !== cause) this.logger.warn(`not ready: ${name} check failing: ${cause}`);
        this.reported.set(name, cause);
      } else if (previous !== undefined) {
        this.logger.log(`${name} check passes again`);
        this.reported.delete(name);
      }
    }
  }

  async check(): Promise<Readiness> {
    const checks: Record<string, CheckResult> = {};
    const [database, storage] = await Promise.all([this.database(), this.storage()]);
    checks.database = database;
    const redis = this.dependencies.get('redis');
    if (redis) {
      checks.redis = redis.up
        ? { status: 'up' }
        : {
            status: 'degraded',
            message: 'unreachable: rate limits counted in process',
            since: redis.since.toISOString(),
          };
    }
    checks.heap = this.heap();
    if (storage) checks.storage = storage;
    const names = Object.keys(checks);
    const failing = names.filter((n) => checks[n].status === 'down');
    this.reportChanges(checks);
    const degraded = names.filter((n) => checks[n].status === 'degraded');
    return {
      status: failing.length > 0 ? 'error' : degraded.length > 0 ? 'degraded' : 'ok',
      checks,
      failing,
      degraded,
    };
  }

  private async database(): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), DATABASE_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([this.db.ping().then(() => 'up' as const), timeout]);
      return outcome === 'up' ? { status: 'up' } : { status: 'down', message: 'no answer within 3 s' };
    } catch {
      return { status: 'down', message: 'unreachable' };
    } finally {
      clearTimeout(timer);
    }
  }

  private heap(): CheckResult {
    const used = process.memoryUsage().heapUsed;
    const limit = this.config.health.heapLimitBytes;
    const figures = { usedMb: Math.round(used / 1024 / 1024), limitMb: Math.round(limit / 1024 / 1024) };
    return used <= limit ? { status: 'up', ...figures } : { status: 'down', message: 'heap above limit', ...figures };
  }

  private async storage(): Promise<CheckResult | undefined> {
    const dir = this.config.dataDir;
    const exists = await access(dir, constants.F_OK).then(
      () => true,
      () => false,
    );
    if (!exists && this.config.mode === 'cluster') return undefined; // nothing is written there
    const minFreeBytes = this.config.health.diskMinFreeBytes;
    try {
      await access(dir, constants.W_OK);
    } catch {
      return { status: 'down', message: exists ? 'data directory is not writable' : 'data directory is missing' };
    }
    try {
      const stats = await statfs(dir);
      const freeBytes = Number(stats.bavail) * Number(stats.bsize);
      const figures = {
        freeMb: Math.floor(freeBytes / 1024 / 1024),
        minFreeMb: Math.floor(minFreeBytes / 1024 / 1024),
      };
      return freeBytes >= minFreeBytes
        ? { status: 'up', ...figures }
        : { status: 'down', message: 'free disk space below threshold', ...figures };
    } catch {
      return { status: 'down', message: 'data directory is not readable' };
    }
  }
}
