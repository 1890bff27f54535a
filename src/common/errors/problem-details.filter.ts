import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { RequestContexts } from '../http/request-context';
import { AppException } from './app.exception';
import { type Dependency, dependencyFailureOf } from './dependency-failure';
import { ErrorCode } from './error-code';
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from './problem';
import { RouteTable } from '../http/route-table';
import { requestIdOf } from '../http/request-id.middleware';
import { noteOnRequestLog } from '../logging/request-log';

/** Emitted (in process) for every 403 FORBIDDEN answer: `{ip, userId, method, path}`. */
export const HTTP_FORBIDDEN_EVENT = 'http.forbidden';

/** What body-parser (through http-errors) puts on the errors it raises. */
interface ParserError {
  type?: string;
  status?: number;
}

/**
 * The one place errors become responses: every error, from a service, a guard, the validation
 * pipe, the body parser or the router, leaves as RFC 9457 problem+json. Anything unexpected is
 * logged in full and answered with a 500 that reveals nothing.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(
    private readonly routes: RouteTable,
    private readonly events: EventEmitter2,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const { body, headers } = this.toProblem(exception, req);
    body.requestId = requestIdOf(req);
    body.instance = pathOf(req);

    const dependency =
      body.code === (ErrorCode.DependencyUnavailable as string) ? (body.dependency as string) : undefined;
    // Said on the request's one log line (request-log.ts), not on a line of its own.
    if (dependency) {
      // An outage, not a defect: no stack (the readiness probe tells the rest).
      noteOnRequestLog(res, { dependency });
    } else if (body.status >= 500 && !(exception instanceof AppException)) {
      noteOnRequestLog(res, { error: exception instanceof Error ? exception : new Error(String(exception)) });
    }
    if (body.code === (ErrorCode.Forbidden as string)) {
      // Bursts of 403s are a probing signal; listeners (threat detection) must not slow the answer.
      const ctx = RequestContexts.current();
      this.events.emit(HTTP_FORBIDDEN_EVENT, {
        ip: req.ip,
        userId: ctx?.actor?.userId,
        method: req.method,
        path: body.instance,
      });
    }
    if (res.headersSent) {
      // The answer was under way: it never finishes, so its request line is never written.
      const stack = exception instanceof Error ? exception.stack : String(exception);
      this.logger.error(`error after the answer began on ${req.method} ${pathOf(req)}: connection cut`, stack);
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private toProblem(exception: unknown, req: Request): { body: Problem; headers: Record<string, string> } {
    if (exception instanceof AppException) {
      return {
        body: problem(exception.code, exception.detail, {
          errors: exception.options.errors,
          extensions: exception.options.extensions,
        }),
        headers: exception.options.headers ?? {},
      };
    }
    if (exception instanceof HttpException) return this.fromHttpException(exception, req);
    const dependency = dependencyFailureOf(exception);
    if (dependency) return dependencyUnavailable(dependency);
    const fromDatabase = fromDatabaseError(exception);
    if (fromDatabase) return { body: fromDatabase, headers: {} };
    return {
      body: problem(ErrorCode.InternalError, 'An unexpected error occurred. Quote the requestId when reporting it.'),
      headers: {},
    };
  }

  private fromHttpException(
    exception: HttpException,
    req: Request,
  ): { body: Problem; headers: Record<string, string> } {
    const status = exception.getStatus();
    const cause = exception.cause as ParserError | undefined;
    const none = {};
    switch (true) {
      case cause?.type === 'entity.parse.failed':
        return { body: problem(ErrorCode.MalformedJson, 'The request body is not valid JSON.'), headers: none };
      case status === 413:
        return {
          body: problem(ErrorCode.PayloadTooLarge, 'The request body is larger than this server accepts.'),
          headers: none,
        };
      case status === 415 || cause?.type === 'encoding.unsupported' || cause?.type === 'charset.unsupported':
        return {
          body: problem(ErrorCode.UnsupportedMediaType, 'The request body has an unsupported encoding or media type.'),
          headers: none,
        };
      case status === 404 && this.isRouterMiss(exception, req): {
        const path = pathOf(req);
        const allowed = this.routes.methodsFor(path);
        if (allowed.length > 0) {
          return {
            body: problem(
              ErrorCode.MethodNotAllowed,
              `${req.method} is not allowed here; allowed: ${allowed.join(', ')}.`,
            ),
            headers: { Allow: allowed.join(', ') },
          };
        }
        return { body: problem(ErrorCode.RouteNotFound, `No route matches ${req.method} ${path}.`), headers: none };
      }
      case status === 400:
        return {
          body: problem(ErrorCode.BadRequest, safeMessage(exception, 'The request is not valid.')),
          headers: none,
        };
      case status === 401:
        return { body: problem(ErrorCode.Unauthenticated, 'Authentication is required.'), headers: none };
      case status === 403:
        return { body: problem(ErrorCode.Forbidden, 'You are not allowed to do this.'), headers: none };
      case status === 404:
        return {
          body: problem(ErrorCode.NotFound, 'The resource does not exist or you may not see it.'),
          headers: none,
        };
      case status === 409:
        return {
          body: problem(ErrorCode.Conflict, safeMessage(exception, 'The request conflicts with the current state.')),
          headers: none,
        };
      case status === 429:
        return {
          body: problem(ErrorCode.RateLimited, 'Too many requests; retry after the time in Retry-After.'),
          headers: none,
        };
      case status === 503:
        return {
          body: problem(ErrorCode.ServiceUnavailable, 'The service is temporarily unavailable.'),
          headers: none,
        };
      case status >= 500:
        return {
          body: problem(
            ErrorCode.InternalError,
            'An unexpected error occurred. Quote the requestId when reporting it.',
          ),
          headers: none,
        };
      default: {
        const body = problem(ErrorCode.BadRequest, safeMessage(exception, 'The request could not be processed.'));
        return { body: { ...body, status }, headers: none };
      }
    }
  }

  /** Nest's router answers an unmatched path with `NotFoundException("Cannot GET /x")`. */
  private isRouterMiss(exception: HttpException, req: Request): boolean {
    return (
      exception.message === `Cannot ${req.method} ${req.originalUrl}` ||
      exception.message === `Cannot ${req.method} ${req.url}`
    );
  }
}

/** Seconds a client should wait before retrying a request refused because a dependency is down. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

const DEPENDENCY_NAMES: Record<Dependency, string> = { database: 'The database', redis: 'Redis' };

/** 503 naming the dependency, never its host, port or driver message. */
function dependencyUnavailable(dependency: Dependency): { body: Problem; headers: Record<string, string> } {
  return {
    body: problem(
      ErrorCode.DependencyUnavailable,
      `${DEPENDENCY_NAMES[dependency]} is temporarily unavailable. Retry after the time in Retry-After (writes with the same Idempotency-Key).`,
      { extensions: { dependency } },
    ),
    headers: { 'Retry-After': String(DEPENDENCY_RETRY_AFTER_SECONDS) },
  };
}

/**
 * Database errors a client's input can cause, answered as what they are rather than a 500:
 * a unique violation lost to a concurrent request (23505) is a 409, and a value PostgreSQL
 * refuses as data (class 22: out of range, bad text representation, invalid byte sequence) a 400.
 * Nothing of the SQL or the constraint is revealed.
 */
function fromDatabaseError(exception: unknown): Problem | undefined {
  if (!(exception instanceof QueryFailedError)) return undefined;
  const code = (exception.driverError as { code?: unknown } | undefined)?.code;
  if (code === '23505') {
    return problem(ErrorCode.Conflict, 'The request conflicts with a resource that already exists.');
  }
  if (typeof code === 'string' && code.startsWith('22')) {
    return problem(ErrorCode.BadRequest, 'A value in the request is out of range or not valid here.');
  }
  return undefined;
}

/** The request's full path, global prefix included, without the query string. */
function pathOf(req: Request): string {
  return (req.originalUrl ?? req.url).split('?')[0];
}

/** A client-facing HttpException message, never an internal one. */
function safeMessage(exception: HttpException, fallback: string): string {
  const response = exception.getResponse();
  const message =
    typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  return typeof message === 'string' && message.length < 500 ? message : fallback;
}
