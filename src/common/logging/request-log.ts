import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Request, Response } from 'express';
import type { Logger as PinoLogger, Level } from 'pino';
import type { RequestContext } from '../http/request-context';

/** What the pipeline noted on a response for its one log line (the problem filter, the probes). */
interface RequestLogNotes {
  /** An unhandled error answered with 500: logged with its stack on the request's line. */
  error?: unknown;
  /** A dependency (database, Redis) that was unavailable for this request. */
  dependency?: string;
  /** Overrides the level derived from the status (the readiness probe logs its 503s at info). */
  level?: Level;
}

const NOTES = Symbol('bastion:request-log');
type Noted = ServerResponse & { [NOTES]?: RequestLogNotes };

/** Attaches `notes` to the request's log line, written once the response has finished. */
export function noteOnRequestLog(res: Response | ServerResponse, notes: RequestLogNotes): void {
  const holder = res as Noted;
  holder[NOTES] = { ...holder[NOTES], ...notes };
}

/**
 * 401, 403 and 429 are what probing and credential stuffing look like: `warn`, so they stand out;
 * every other 4xx is the client's own mistake and goes at `info` with the successes.
 */
const SECURITY_STATUSES = new Set([401, 403, 429]);

export function levelFor(status: number, notes: RequestLogNotes | undefined): Level {
  if (notes?.level) return notes.level;
  if (notes?.error !== undefined) return 'error';
  if (status >= 500) return notes?.dependency ? 'warn' : 'error';
  return SECURITY_STATUSES.has(status) ? 'warn' : 'info';
}

/**
 * Exactly one line per request, written when its response has finished: method, route template
 * (`/api/v1/portfolios/:id`, or none when no route matched), path without the query, status,
 * duration, the client address (Express's `req.ip`, so X-Forwarded-For only from TRUSTED_PROXIES),
 * the request id and who called (user id, API key id). Nothing is built when the level drops the line.
 * Headers are never logged: the ones that matter are fields of their own.
 */
export function logRequestOnFinish(logger: PinoLogger, req: Request, res: Response, context: RequestContext): void {
  const start = performance.now();
  res.once('finish', () => {
    const status = res.statusCode;
    const notes = (res as unknown as Noted)[NOTES];
    const level = levelFor(status, notes);
    if (!logger.isLevelEnabled(level)) return;
    const template: unknown = (req as unknown as { route?: { path?: unknown } }).route?.path;
    // The catch-all that answers unknown paths with 404 is not a route of the API.
    const route = typeof template === 'string' && !template.includes('*') ? template : undefined;
    const path = (req.originalUrl ?? req.url).split('?', 1)[0];
    const ms = Math.round((performance.now() - start) * 10) / 10;
    const actor = context.actor;
    const line: Record<string, unknown> = {
      reqId: context.requestId,
      method: req.method,
      route,
      path,
      status,
      ms,
      ip: context.ip,
      userId: actor?.userId,
      apiKeyId: actor?.type === 'api_key' ? actor.id : undefined,
    };
    if (notes?.dependency) line.dependency = notes.dependency;
    if (notes?.error !== undefined) line.err = notes.error;
    logger[level](line, `${req.method} ${route ?? path} ${status} ${ms} ms`);
  });
}
