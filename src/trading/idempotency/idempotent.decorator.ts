import {
  applyDecorators,
  type CallHandler,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { map, type Observable } from 'rxjs';
import { ApiIdempotency } from './api-idempotency.decorator';
import { IDEMPOTENCY_HEADER, type IdempotentRequest, parseIdempotencyKey, requestHash } from './idempotency';
import type { Answer } from './idempotency.service';

/** The header that marks a replayed answer. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

type IdempotentHttpRequest = Request & { idempotency?: IdempotentRequest };

/** What an `@Idempotent()` handler returns: the answer (status and body) and whether it was replayed. */
export type IdempotentAnswer<T> = Answer<T> & { replayed: boolean };

function isAnswer(value: unknown): value is IdempotentAnswer<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number' &&
    'body' in value &&
    typeof (value as { replayed?: unknown }).replayed === 'boolean'
  );
}

/**
 * Reads the `Idempotency-Key` header (a bad one is a 400 before any work) into the request's
 * {@link IdempotentRequest}: the caller, the key, the method, the concrete path and the hash of
 * the body as sent. The handler passes it (via `@IdempotencyRequest()`) to its service, which runs
 * the work through `IdempotencyService.run` in its transaction and answers an
 * {@link IdempotentAnswer}; this interceptor then sets its status and `Idempotent-Replayed`, so
 * controllers never touch `@Req`/`@Res`.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<IdempotentHttpRequest>();
    const res = http.getResponse<Response>();
    const key = parseIdempotencyKey(req.headers[IDEMPOTENCY_HEADER.toLowerCase()]);
    const principal = req.principal;
    req.idempotency =
      key === undefined || !principal
        ? undefined
        : {
            userId: principal.userId,
            key,
            method: req.method,
            path: (req.originalUrl ?? req.url).split('?')[0],
            hash: requestHash(req.body),
          };
    return next.handle().pipe(
      map((answer: unknown) => {
        if (!isAnswer(answer)) return answer;
        res.status(answer.status);
        if (answer.replayed) res.setHeader(REPLAYED_HEADER, 'true');
        return answer.body;
      }),
    );
  }
}

/** The request's `Idempotency-Key` as an {@link IdempotentRequest}; undefined without the header. */
export const IdempotencyRequest = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): IdempotentRequest | undefined =>
    ctx.switchToHttp().getRequest<IdempotentHttpRequest>().idempotency,
);

/**
 * A write that clients retry: the optional `Idempotency-Key` is honoured (same key and body:
 * the first answer again with `Idempotent-Replayed: true`; same key, other request: 422), and the
 * header and the 422 are documented. The handler returns an {@link IdempotentAnswer}.
 */
export function Idempotent(): MethodDecorator {
  return applyDecorators(UseInterceptors(IdempotencyInterceptor), ApiIdempotency());
}
