import { Injectable, Logger } from '@nestjs/common';

/** A dependency the process can live without for a while (Redis: rate limits fall back to memory). */
export type OptionalDependency = 'redis';

export interface DependencyState {
  up: boolean;
  /** When the current state began. */
  since: Date;
  /** A short operator-facing reason, never a host, port or driver message (it may be shown to admins). */
  reason?: string;
}

/**
 * What the adapters know about the optional dependencies they use: the Redis client reports
 * when it goes down and comes back, readiness reads it. Each change is logged once, not per request.
 */
@Injectable()
export class DependencyHealth {
  private readonly logger = new Logger('Dependencies');
  private readonly states = new Map<OptionalDependency, DependencyState>();

  /** Declares a dependency this process uses (configured), assumed up until told otherwise. */
  declare(name: OptionalDependency): void {
    if (!this.states.has(name)) this.states.set(name, { up: true, since: new Date() });
  }

  /** Records a state; logs only when it changes. Returns whether it changed. */
  report(name: OptionalDependency, up: boolean, reason?: string): boolean {
    const current = this.states.get(name);
    if (current && current.up === up) return false;
    this.states.set(name, { up, since: new Date(), reason: up ? undefined : reason });
    if (up) this.logger.log(`${name} is available again`);
    else this.logger.warn(`${name} is unavailable${reason ? `: ${reason}` : ''}`);
    return true;
  }

  get(name: OptionalDependency): DependencyState | undefined {
    return this.states.get(name);
  }

  all(): ReadonlyMap<OptionalDependency, DependencyState> {
    return this.states;
  }
}
