import type { INestApplication } from '@nestjs/common';
import { VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { LiveIoAdapter } from './api/live/live-io.adapter';
import { AppModule, type ModuleImport } from './app.module';
import type { AppConfig } from './common/config/app-config';
import { DeprecationMiddleware } from './common/http/deprecation.middleware';
import { REQUEST_ID_HEADER, requestIdMiddleware } from './common/http/request-id.middleware';
import { constantHelmetHeaders } from './common/http/security-headers';
import { AppLogger } from './common/logging/logging.module';
import { logRequestOnFinish } from './common/logging/request-log';
import { buildOpenApiDocument } from './common/openapi/openapi';
import { swaggerUiOptions } from './common/openapi/swagger-ui';
import { ALL_PERMISSIONS } from './security/rbac/permissions';

/** Paths served outside `/api/v{n}`: probes for orchestrators, the Prometheus scrape, the AsyncAPI document. */
export const UNPREFIXED_PATHS = ['health/live', 'health/ready', 'metrics', 'docs/asyncapi.json'];

/**
 * Creates the application exactly as production runs it. main.ts, the CLI and every e2e test
 * use this one function, so what is tested is what is served.
 */
export async function createApp(
  config: AppConfig,
  options: { imports?: ModuleImport[] } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.imports), {
    bufferLogs: true,
    bodyParser: false, // parsed by JsonBodyMiddleware, after the request logger
    // A failing provider (database, Redis) rejects here so main.ts reports it in one line;
    // Nest's default would abort the process (SIGABRT, a core dump, no message of ours).
    abortOnError: false,
  });
  setupApp(app, config);
  await app.init();
  return app;
}

/** `/api/v{n}` for resources; probes and the Prometheus scrape at the root. */
export function configureRouting(app: INestApplication): void {
  app.setGlobalPrefix('api', { exclude: UNPREFIXED_PATHS });
  app.enableVersioning({ type: VersioningType.URI, prefix: 'v', defaultVersion: '1' });
}

/**
 * The OpenAPI document without a database or a listening server: modules are scanned in Nest's
 * preview mode, which reads their metadata and instantiates nothing.
 */
export async function buildOfflineOpenApiDocument(config: AppConfig): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(config), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  configureRouting(app);
  const document = buildOpenApiDocument(app, {
    deprecatedVersions: new DeprecationMiddleware(config).deprecatedVersions,
    permissions: ALL_PERMISSIONS,
  });
  await app.close();
  return document;
}

export function setupApp(app: NestExpressApplication, config: AppConfig): void {
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.flushLogs();

  // The client address comes from X-Forwarded-For only when the direct peer is a trusted proxy.
  app.set('trust proxy', config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false);
  app.disable('x-powered-by');
  // The request id, the request context and its one log line first, so every answer carries them.
  app.use(requestIdMiddleware((req, res, context) => logRequestOnFinish(logger.pino, req, res, context)));
  const deprecation = new DeprecationMiddleware(config);
  // helmet's headers are the same on every answer: computed once, set in one loop.
  const security = constantHelmetHeaders(
    helmet({
      // Swagger UI loads its own scripts and styles from /docs; nothing from elsewhere.
      contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'] } },
    }),
  );
  app.use((req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of security.set) res.setHeader(name, value);
    for (const name of security.removed) res.removeHeader(name);
    // Answers under /api carry tokens, secrets, recovery codes or personal data: no cache, shared or
    // private, may keep them. A route that wants caching sets its own Cache-Control over this.
    if (req.path.startsWith('/api/')) res.setHeader('Cache-Control', 'no-store');
    deprecation.use(req, res, next);
  });
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.http.corsOrigins.includes('*') ? true : config.http.corsOrigins,
      credentials: !config.http.corsOrigins.includes('*'),
      exposedHeaders: [
        REQUEST_ID_HEADER,
        'Retry-After',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Deprecation',
        'Sunset',
        'Link',
        'Idempotent-Replayed',
        'ETag',
      ],
      maxAge: 600,
    });
  }

  // The live gateway (Socket.IO) on the same HTTP server, with its limits and, in cluster mode, Redis.
  app.useWebSocketAdapter(new LiveIoAdapter(app, config));

  configureRouting(app);
  if (!config.docs.enabled) return; // DOCS_ENABLED=false: no /docs, no /docs-json
  const document = buildOpenApiDocument(app as INestApplication, {
    deprecatedVersions: deprecation.deprecatedVersions,
    permissions: ALL_PERMISSIONS,
  });
  SwaggerModule.setup('docs', app, document, swaggerUiOptions());
}
