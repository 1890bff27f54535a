import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Request } from 'express';
import { PrometheusService, UNMATCHED_ROUTE } from '../metrics/prometheus.service';
import { RouteRegistry } from '../routes/route-registry';
import { ApiStatsService } from './api-stats.service';

/** The Prometheus scrape route, left out of the statistics. */
const SCRAPE_PATH = '/metrics';

/**
 * Times every HTTP request and, when its response has finished, records it under its route
 * template in the API statistics and the Prometheus metrics.
 *
 * It listens on the HTTP server itself, ahead of Express, rather than as Nest middleware: module
 * middleware runs after the request logger and the JSON body parser, and a request those refuse
 * (malformed JSON, 413, 415) would never reach it. So every request is counted, whoever answers
 * it (a guard's 401/403, a pipe's 400, a filter's 500, the router's 404), and the time covers the
 * whole pipeline. Requests whose client disconnects before the response finishes are not counted,
 * nor are answered Prometheus scrapes of `/metrics` (refused ones are).
 */
@Injectable()
export class HttpMeter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HttpMeter.name);
  private server: Server | undefined;
  private failed = false;
  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    res.once('finish', () => this.record(req as Request, res.statusCode, performance.now() - start));
  };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: RouteRegistry,
    private readonly stats: ApiStatsService,
    private readonly prometheus: PrometheusService,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (typeof server?.prependListener !== 'function') return;
    server.prependListener('request', this.onRequest);
    this.server = server;
  }

  onModuleDestroy(): void {
    this.server?.off('request', this.onRequest);
    this.server = undefined;
  }

  private record(req: Request, status: number, durationMs: number): void {
    try {
      const route = this.routes.resolve(req);
      // Prometheus scrapes are not API traffic: counting them would skew every rate and figure.
      // Refused attempts (401/403) still count: they are worth seeing.
      if (route?.path === SCRAPE_PATH && status < 400) return;
      this.stats.record(route, status, durationMs);
      this.prometheus.observeRequest(req.method, route?.path ?? UNMATCHED_ROUTE, status, durationMs / 1000);
    } catch (err) {
      // Statistics must never break serving; say so once rather than on every request.
      if (!this.failed) this.logger.error('recording request statistics failed', (err as Error).stack);
      this.failed = true;
    }
  }
}
