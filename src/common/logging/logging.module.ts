import { Global, Inject, Injectable, type LoggerService, Module } from '@nestjs/common';
import pino, { type Logger as PinoLogger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { RequestContexts } from '../http/request-context';

/**
 * Paths pino removes from every log line. Request lines carry no headers or bodies at all
 * (request-log.ts), but a message that logs an object by mistake still loses these.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...[
    'password',
    'currentPassword',
    'newPassword',
    'token',
    'accessToken',
    'refreshToken',
    'mfaToken',
    'apiKey',
    'secret',
    'code',
    'recoveryCode',
  ].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

export const ROOT_LOGGER = Symbol('bastion:root-logger');

/** The process's one pino logger: JSON lines on stdout (pretty with LOG_PRETTY), the request id on every line of a request. */
export function createRootLogger(config: AppConfig): PinoLogger {
  return pino({
    level: config.log.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Lines written while serving a request carry its id (read only when a line is written).
    mixin: () => {
      const ctx = RequestContexts.current();
      return ctx ? { reqId: ctx.requestId } : {};
    },
    transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
  });
}

/**
 * Nest's logger interface over the root pino logger: `context` becomes a field, an error's stack
 * (Nest passes it as a string) goes in `stack`. Replaces nestjs-pino, whose pino-http middleware
 * built a child logger and serialised the request on every request even when the level dropped
 * the line, and ran a second AsyncLocalStorage beside ours.
 */
@Injectable()
export class AppLogger implements LoggerService {
  constructor(@Inject(ROOT_LOGGER) readonly pino: PinoLogger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest's signature: error(message, stack?, context?)
    const context =
      rest.length > 1 ? rest[rest.length - 1] : rest.length === 1 && !isStack(rest[0]) ? rest[0] : undefined;
    const stack = rest.length > 0 && isStack(rest[0]) ? rest[0] : undefined;
    this.emit('error', message, typeof context === 'string' ? context : undefined, stack);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    const context = rest[rest.length - 1];
    this.emit(level, message, typeof context === 'string' ? context : undefined);
  }

  private emit(level: pino.Level, message: unknown, context: string | undefined, stack?: string): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    if (stack) fields.stack = stack;
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, message.message);
    } else if (typeof message === 'string') {
      this.pino[level](fields, message);
    } else {
      this.pino[level]({ ...fields, data: message });
    }
  }
}

function isStack(value: unknown): value is string {
  return typeof value === 'string' && /\n\s+at /.test(value);
}

@Global()
@Module({
  providers: [
    { provide: ROOT_LOGGER, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createRootLogger(config) },
    AppLogger,
  ],
  exports: [ROOT_LOGGER, AppLogger],
})
export class LoggingModule {}
