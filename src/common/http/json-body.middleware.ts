import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';

/**
 * Parses JSON bodies up to BODY_LIMIT. Applied as module middleware, after the request logger,
 * so malformed and oversized bodies are logged like any other request; its errors reach the
 * problem+json filter through Nest's error handler.
 */
/** Bulk ingestion routes (`…/bulk`) accept BULK_BODY_LIMIT instead of BODY_LIMIT. */
const BULK_PATH = /\/bulk\/?$/;

@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: express.RequestHandler;
  private readonly parseBulk: express.RequestHandler;

  constructor(@InjectConfig() config: AppConfig) {
    const type = ['application/json', 'application/*+json'];
    this.parse = express.json({ limit: config.http.bodyLimit, type });
    this.parseBulk = express.json({ limit: config.http.bulkBodyLimit, type });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      next(
        new AppException(
          ErrorCode.UnsupportedMediaType,
          'Send request bodies as JSON with Content-Type: application/json.',
        ),
      );
      return;
    }
    (BULK_PATH.test(req.originalUrl.split('?')[0]) ? this.parseBulk : this.parse)(req, res, next);
  }
}
