import { Injectable } from '@nestjs/common';
import { type RouteDescriptor, RouteRegistry } from '../routes/route-registry';
import type { ApiStatsDto } from './dto/api-stats.dto';
import { RouteStats } from './route-stats';
import { LiveMeter } from '../live/live-meter.service';

/**
 * Request counts, status classes and latency per route, in memory, for this instance since it
 * started. Entries exist only for routes of the registry plus one for everything unmatched, so
 * memory stays bounded whatever URLs clients send. Cluster-wide figures come from Prometheus.
 */
@Injectable()
export class ApiStatsService {
  readonly since = new Date();
  private readonly byRoute = new Map<string, RouteStats>();
  private readonly unmatched = new RouteStats();

  constructor(
    private readonly routes: RouteRegistry,
    private readonly live: LiveMeter,
  ) {}

  /** Counts one answered request; `route` undefined for requests that matched no route. */
  record(route: RouteDescriptor | undefined, status: number, durationMs: number): void {
    if (!route) {
      this.unmatched.record(status, durationMs);
      return;
    }
    let stats = this.byRoute.get(route.key);
    if (!stats) this.byRoute.set(route.key, (stats = new RouteStats()));
    stats.record(status, durationMs);
  }

  /** Every route of the registry with its figures (zero when never called), and the unmatched ones. */
  snapshot(): ApiStatsDto {
    const empty = new RouteStats();
    return {
      since: this.since.toISOString(),
      routes: this.routes.all().map((route) => ({
        method: route.method,
        path: route.path,
        version: route.version,
        access: route.access,
        permissions: [...route.permissions],
        ...(this.byRoute.get(route.key) ?? empty).snapshot(),
      })),
      unmatched: this.unmatched.snapshot(),
      live: this.live.snapshot(),
    };
  }
}
