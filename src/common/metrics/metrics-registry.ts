import { Global, Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import { Registry } from 'prom-client';

/**
 * The one Prometheus registry of the application. It lives in `common/` so that every module can
 * register its metrics on it (monitoring: host, database pool, business and security counters;
 * api: HTTP metrics) while `GET /metrics` (api/) renders it; no feature module imports api/.
 *
 * A registry of its own rather than prom-client's global one, so several applications in one
 * process (tests) do not clash.
 */
@Injectable()
export class MetricsRegistry implements OnModuleDestroy {
  readonly registry = new Registry();

  onModuleDestroy(): void {
    this.registry.clear();
  }
}

@Global()
@Module({ providers: [MetricsRegistry], exports: [MetricsRegistry] })
export class MetricsRegistryModule {}
