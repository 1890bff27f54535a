import { Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { ProblemDetailsFilter } from './errors/problem-details.filter';
import { DependencyHealth } from './health/dependency-health.service';
import { JsonBodyMiddleware } from './http/json-body.middleware';
import { RouteTable } from './http/route-table';
import { createValidationPipe } from './validation/validation.pipe';
import { LoggingModule } from './logging/logging.module';

/**
 * The HTTP pipeline every route shares: logging, body parsing, validation, problem+json; and the
 * state of optional dependencies (global, so adapters in any module can report to it).
 */
@Global()
@Module({
  imports: [LoggingModule],
  providers: [
    RouteTable,
    DependencyHealth,
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
  exports: [RouteTable, DependencyHealth],
})
export class CommonModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // The request's log line is set up in app.setup.ts, before any module middleware.
    consumer.apply(JsonBodyMiddleware).forRoutes('{*splat}');
  }
}
