import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

type VersionHeaders = [name: string, value: string][];

const VERSIONED_PATH = /^\/api\/v(\d+)(?:\/|$)/;

/**
 * Marks answers of deprecated API versions (`DEPRECATED_API_VERSIONS`) with
 * - `Deprecation: @<unix seconds>` (RFC 9745), when the version was deprecated;
 * - `Sunset: <HTTP-date>` (RFC 8594), when it may stop answering;
 * - `Link: <API_MIGRATION_NOTES_URL>; rel="deprecation"` (RFC 9745 §3), where to read how to move on.
 * `{version}` in the URL is replaced by the version. The headers are set before the handler runs,
 * so error answers of a deprecated route carry them too (not those refused before any route runs,
 * such as 401 from the guard).
 */
@Injectable()
export class DeprecationInterceptor implements NestInterceptor {
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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.byVersion.size > 0 && context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      const version = VERSIONED_PATH.exec((req.originalUrl ?? req.url).split('?')[0])?.[1];
      const headers = version === undefined ? undefined : this.byVersion.get(version);
      if (headers) {
        const res = context.switchToHttp().getResponse<Response>();
        for (const [name, value] of headers) res.setHeader(name, value);
      }
    }
    return next.handle();
  }
}
