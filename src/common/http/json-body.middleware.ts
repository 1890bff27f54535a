import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { findInputProblem, isUnsafeText } from '../validation/input-text';

/**
 * Parses JSON bodies up to BODY_LIMIT. Applied as module middleware, after the request logger,
 * so malformed and oversized bodies are logged like any other request; its errors reach the
 * problem+json filter through Nest's error handler.
 */
/**
 * Path and query parameters: the decoded path must be valid UTF-8 without NUL (`%00`), and every
 * query value free of NUL and unpaired surrogates, so no parameter reaches a pipe or SQL with them.
 */
function checkUrl(req: Request): { field: string; message: string } | undefined {
  const [path, query = ''] = req.originalUrl.split('?', 2);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { field: '(path)', message: 'is not valid percent-encoded UTF-8' };
  }
  if (isUnsafeText(decoded)) return { field: '(path)', message: 'must not contain NUL characters' };
  if (query === '') return undefined;
  return findInputProblem(req.query, 8, 'query');
}

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
    const urlProblem = checkUrl(req);
    if (urlProblem) {
      next(AppException.validation([urlProblem], 'The request URL carries text this API does not accept.'));
      return;
    }
    (BULK_PATH.test(req.originalUrl.split('?')[0]) ? this.parseBulk : this.parse)(req, res, (err?: unknown) => {
      if (err !== undefined) {
        next(err);
        return;
      }
      const problem = req.body === undefined ? undefined : findInputProblem(req.body);
      if (problem) {
        next(AppException.validation([problem], 'The request body carries input this API does not accept.'));
        return;
      }
      next();
    });
  }
}
