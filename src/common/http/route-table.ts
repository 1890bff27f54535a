import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

const isWildcard = (path: unknown): boolean => typeof path !== 'string' || path.includes('*');

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  match(path: string): unknown;
}

/**
 * Answers "which methods does this path accept?" from Express's own router, so an unknown
 * method on a known path gets 405 with `Allow` rather than a misleading 404.
 */
@Injectable()
export class RouteTable {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  methodsFor(path: string): string[] {
    const app = this.adapterHost.httpAdapter?.getInstance<{ router?: { stack: RouterLayer[] } }>();
    const stack = app?.router?.stack ?? [];
    const methods = new Set<string>();
    for (const layer of stack) {
      // Wildcard routes are middleware (logger, body parser) or catch-alls: they say nothing about this path.
      if (!layer.route || isWildcard(layer.route.path) || !layer.match(path)) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') methods.add(method.toUpperCase());
      }
    }
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  }
}
