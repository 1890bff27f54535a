/**
 * bench:floor's rungs: the baseline's GET /me (bench/support/baseline-server.ts: jose HS256 check,
 * one one-row query, a JSON answer) served by NestJS instead of bare Express, so the cost of the
 * framework itself is measured apart from everything Bastion adds on top of it.
 *
 *   FLOOR_ADAPTER=express | fastify    the HTTP platform (@nestjs/platform-express or -fastify)
 *   FLOOR_PIPELINE=bare | app          bare: one controller, nothing global. app: what a Nest API
 *                                      carries on every request before its own work: the global
 *                                      prefix and URI versioning (/api/v1/me), a global guard, a
 *                                      ValidationPipe, an interceptor and an exception filter.
 *
 * Environment as the baseline's: DATABASE_URL, BASELINE_JWT_SECRET (base64), HOST, PORT,
 * BASELINE_POOL_SIZE (10). Tokens are the baseline's (POST /login there), so the same token
 * works on every rung.
 */
import 'reflect-metadata';
import { createSecretKey } from 'node:crypto';
import {
  type ArgumentsHost,
  type CallHandler,
  Catch,
  type CanActivate,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  Headers,
  HttpException,
  Module,
  type NestInterceptor,
  UnauthorizedException,
  ValidationPipe,
  Version,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import { map, type Observable } from 'rxjs';
import { activeUser, bearerSubject } from './yardstick';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const ADAPTER = process.env.FLOOR_ADAPTER ?? 'express';
const PIPELINE = process.env.FLOOR_PIPELINE ?? 'bare';
const key = createSecretKey(Buffer.from(required('BASELINE_JWT_SECRET'), 'base64'));
const pool = new Pool({
  connectionString: required('DATABASE_URL'),
  max: Number(process.env.BASELINE_POOL_SIZE ?? 10),
});

@Controller()
class FloorController {
  @Get('health')
  @Version(VERSION_NEUTRAL)
  health(): { ok: boolean } {
    return { ok: true };
  }

  @Get('me')
  async me(@Headers('authorization') authorization: string | undefined): Promise<Record<string, unknown>> {
    const sub = await bearerSubject(authorization, key);
    const user = sub ? await activeUser(pool, sub) : undefined;
    if (!user) throw new UnauthorizedException();
    return user;
  }
}

/** Reads route metadata and lets everything through, as a deny-by-default guard does before deciding. */
class PassGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.getHandler() !== undefined && context.getClass() !== undefined;
  }
}

class PassInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((body: unknown) => body));
  }
}

@Catch(HttpException)
class ProblemFilter implements ExceptionFilter {
  catch(exception: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<{ status?: unknown; code?: unknown }>();
    const status = exception.getStatus();
    const body = { type: 'about:blank', title: exception.message, status };
    // Express has res.status().json(); Fastify's reply has code().send().
    const r = res as unknown as {
      status?: (s: number) => { json: (b: unknown) => void };
      code?: (s: number) => { header: (k: string, v: string) => { send: (b: string) => void } };
    };
    if (ADAPTER === 'fastify')
      r.code!(status).header('content-type', 'application/problem+json').send(JSON.stringify(body));
    else r.status!(status).json(body);
  }
}

@Module({ controllers: [FloorController] })
class FloorModule {}

async function main(): Promise<void> {
  let app;
  if (ADAPTER === 'fastify') {
    // Loaded only for this rung: the product runs on Express.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    app = await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: ['error', 'warn'] });
  } else {
    app = await NestFactory.create(FloorModule, { logger: ['error', 'warn'] });
  }
  if (PIPELINE === 'app') {
    app.setGlobalPrefix('api', { exclude: ['health'] });
    app.enableVersioning({ type: VersioningType.URI, prefix: 'v', defaultVersion: '1' });
    app.useGlobalGuards(new PassGuard());
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
    app.useGlobalInterceptors(new PassInterceptor());
    app.useGlobalFilters(new ProblemFilter());
  }
  await app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
  process.stdout.write(`listening (${ADAPTER}, ${PIPELINE})\n`);
  const stop = (): void => {
    void app.close().then(() => pool.end().then(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
