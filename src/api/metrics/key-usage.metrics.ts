import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { KeyUsageService } from '../../security/keys/key-usage.service';
import { PrometheusService } from './prometheus.service';

/**
 * `bastion_key_operations_total{key, version, operation}`: use of named keys, read at scrape time
 * from security's KeyUsageService (security counts; api only publishes).
 */
@Injectable()
export class KeyUsageMetrics implements OnModuleInit {
  constructor(
    private readonly prometheus: PrometheusService,
    private readonly usage: KeyUsageService,
  ) {}

  onModuleInit(): void {
    const usage = this.usage;
    new Counter({
      name: 'bastion_key_operations_total',
      help: 'Operations done with named keys, by key, key version and operation, since the process started.',
      labelNames: ['key', 'version', 'operation'],
      registers: [this.prometheus.registry],
      collect() {
        this.reset();
        for (const c of usage.snapshot()) {
          this.inc({ key: c.key, version: String(c.version), operation: c.operation }, c.count);
        }
      },
    });
  }
}
