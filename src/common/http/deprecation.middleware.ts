import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

type VersionHeaders = [name: string, value: string][];

const VERSIONED_PATH = /^\/api\/v(\d+)(?:\/|$)/;

/**
 * Marks answers of deprecated API versions (`DEPRECATED_API_VERSIONS`) with
 * - `Deprecation: @<unix seconds>` (RFC 9745), when the version was deprecated;
 * - `Sunset: <HTTP-date>` (RFC 8594), when it may stop answering;
 * - `Link: <API_MIGRATION_NOTES_URL>; rel="deprecation"` (RFC 9745 §3), where to read how to move on.
 * `{version}` in the URL is replaced by the version. A middleware, so every answer under a
 * deprecated version carries them: errors, 401/403 from the guard and unknown routes included.
 */
@Injectable()
export class DeprecationMiddleware implements NestMiddleware {
  private readonly byVersion: ReadonlyMap<string, VersionHeaders>;

  constructor(@InjectConfig() config: AppConfig) {
    this.byVersion = new Map(
      config.versioning.deprecated.map((d) => [
        d.version,
        [
          ['Deprecation', `@${Math.floor(d.deprecatedAt.getTime() / 1000)}`],
          ['Sunset', d.sunsetAt.toUTCString()],
          [
            'Link',
            `<${config.versioning.migrationNotesUrl.replaceAll('{version}', d.version)}>; rel="deprecation"; type="text/html"`,
          ],
        ],
      ]),
    );
  }

  /** The deprecated versions, for the OpenAPI document (`deprecated: true` on their operations). */
  get deprecatedVersions(): string[] {
    return [...this.byVersion.keys()];
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (this.byVersion.size > 0) {
      const version = VERSIONED_PATH.exec((req.originalUrl ?? req.url).split('?')[0])?.[1];
      const headers = version === undefined ? undefined : this.byVersion.get(version);
      if (headers) for (const [name, value] of headers) res.setHeader(name, value);
    }
    next();
  }
}
