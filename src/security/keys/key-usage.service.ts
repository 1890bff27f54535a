import { Injectable } from '@nestjs/common';

export interface KeyUseCount {
  key: string;
  version: number;
  operation: string;
  count: number;
}

/**
 * Use of named keys, counted per key, version and operation since the process started. The
 * Prometheus endpoint lives in api/, which reads these counts (security never imports api/).
 */
@Injectable()
export class KeyUsageService {
  private readonly counts = new Map<string, KeyUseCount>();

  count(key: string, version: number, operation: string, n = 1): void {
    const id = `${key}\u0000${version}\u0000${operation}`;
    const entry = this.counts.get(id);
    if (entry) entry.count += n;
    else this.counts.set(id, { key, version, operation, count: n });
  }

  snapshot(): KeyUseCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }
}
