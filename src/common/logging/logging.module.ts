import { Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/**
 * Paths pino removes from every log line. Headers are logged through the serializers below,
 * which already keep only a few, but the list stays as a second line of defence.
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

/** Only these request headers are logged: nothing that authenticates. */
const LOGGED_HEADERS = ['user-agent', 'content-type', 'content-length', 'x-forwarded-for', 'referer'];

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.log.level,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          genReqId: (req: IncomingMessage) => req.id ?? '',
          // The pipeline answers every error itself; 5xx are logged by the problem filter.
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
            err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
          serializers: {
            req: (req: {
              id: string;
              method: string;
              url: string;
              headers: Record<string, string>;
              remoteAddress: string;
            }) => ({
              id: req.id,
              method: req.method,
              url: req.url?.split('?')[0],
              ip: req.remoteAddress,
              headers: Object.fromEntries(
                LOGGED_HEADERS.filter((h) => req.headers?.[h]).map((h) => [h, req.headers[h]]),
              ),
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          transport: config.log.pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
