import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { createHash } from 'node:crypto';
import { map, type Observable } from 'rxjs';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { ApiProblems } from '../openapi/api-problems.decorator';

/**
 * Entity tags (RFC 9110 §8.8.3) for resources that clients update: users, groups, portfolios.
 *
 * Express already gives every body a weak ETag and answers a matching `If-None-Match` on GET
 * with 304 (`req.fresh`). That tag is weak, so it may not be used with `If-Match` (strong
 * comparison). Routes of updatable resources set a strong tag of the same representation
 * instead: Express keeps a tag that is already set and runs its 304 logic over it, so
 * `If-None-Match` keeps working, and the tag a client read is the one its `If-Match` must name.
 */
export function entityTag(representation: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(representation)).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

const TAG_LIST = /^\s*(\*|(W\/)?"[\x21\x23-\x7e\x80-\xff]*"(\s*,\s*(W\/)?"[\x21\x23-\x7e\x80-\xff]*")*)\s*$/;

/**
 * The `If-Match` precondition of an update, checked against the current tag of the resource
 * (computed from the row read under lock in the update's transaction). Absent: no precondition.
 * `*` matches any existing resource. Weak tags never match (strong comparison). A stale tag is
 * 412 `PRECONDITION_FAILED` and the caller changes nothing; a malformed header is a 400.
 */
export function assertIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  if (!TAG_LIST.test(ifMatch)) {
    throw AppException.validation([
      { field: 'If-Match', message: 'If-Match must be * or a list of entity tags such as "abc"' },
    ]);
  }
  if (ifMatch.trim() === '*') return;
  const tags = ifMatch.match(/(W\/)?"[^"]*"/g) ?? [];
  if (tags.some((tag) => tag === current)) return;
  throw new AppException(
    ErrorCode.PreconditionFailed,
    'The resource changed since you read it (If-Match does not name its current ETag); nothing was changed. Read it again and retry.',
  );
}

/** Sets the strong {@link entityTag} of the answered body, unless the route set one already. */
@Injectable()
export class ETagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        if (body !== undefined && body !== null && !res.headersSent && !res.getHeader('ETag')) {
          res.setHeader('ETag', entityTag(body));
        }
        return body;
      }),
    );
  }
}

/** How the ETag response header is documented on the 200 answers of tagged routes. */
export const ETAG_RESPONSE_HEADER = {
  ETag: {
    description:
      'Strong entity tag of this representation. Send it back in `If-None-Match` to get 304 when nothing changed, or in `If-Match` on an update to refuse it (412) if someone changed the resource meanwhile.',
    schema: { type: 'string', example: '"mZ2b1yFqk0w8Jm3xVbW6nq2o9dQ"' },
  },
} as const;

/** A read of an updatable resource: strong `ETag`, `If-None-Match` answered with 304. */
export function ETagged(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(ETagInterceptor),
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'An ETag from an earlier answer: 304 with no body when the representation is still the same.',
    }),
    ApiResponse({ status: 304, description: 'Not modified: the `If-None-Match` tag is still current.' }),
  );
}

/** An update guarded by an optional `If-Match`: 412 on a stale tag; the answer carries the new ETag. */
export function IfMatchGuarded(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(ETagInterceptor),
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'The ETag you read (GET of this resource). Optional; when sent and the resource changed since, the update is refused with 412 PRECONDITION_FAILED and nothing changes. `*` matches any existing resource.',
    }),
    ApiProblems(412),
  );
}
