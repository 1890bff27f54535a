import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Gauge } from 'prom-client';
import { DependencyHealth } from '../../common/health/dependency-health.service';
import { PrometheusService } from '../../api/metrics/prometheus.service';

/**
 * Gauges for optional dependencies on the application's Prometheus registry:
 * `bastion_dependency_up{dependency}` (1 up, 0 down) and `bastion_rate_limit_degraded`
 * (1 while rate limits are counted in process because Redis is unreachable).
 */
@Injectable()
export class DependencyMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly dependencies: DependencyHealth,
  ) {}

  onApplicationBootstrap(): void {
    const prometheus = this.moduleRef.get(PrometheusService, { strict: false });
    const dependencies = this.dependencies;
    new Gauge({
      name: 'bastion_dependency_up',
      help: 'Whether an optional dependency (redis) is reachable: 1 up, 0 down.',
      labelNames: ['dependency'],
      registers: [prometheus.registry],
      collect() {
        for (const [name, state] of dependencies.all()) this.set({ dependency: name }, state.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bastion_rate_limit_degraded',
      help: '1 while rate limits are counted in process because Redis is unreachable (each instance counts alone).',
      registers: [prometheus.registry],
      collect() {
        const redis = dependencies.get('redis');
        this.set(redis && !redis.up ? 1 : 0);
      },
    });
  }
}
