import { Injectable } from '@nestjs/common';
import type { MetricDescriptor } from './metric-catalogue';

/**
 * Something that contributes values to each sample besides the built-in collector: another module
 * (or a test's module, through `startTestApp(env, {imports})`) registers one at start-up. Values
 * are keyed by series key (`name` or `name{label="value"}`), names from {@link describe}.
 */
export interface MetricSource {
  describe(): MetricDescriptor[];
  collect(): Record<string, number> | Promise<Record<string, number>>;
}

/** The registered sources; the collector reads every one at each sample. */
@Injectable()
export class MetricSources {
  private readonly sources: MetricSource[] = [];

  register(source: MetricSource): void {
    this.sources.push(source);
  }

  all(): readonly MetricSource[] {
    return this.sources;
  }
}
