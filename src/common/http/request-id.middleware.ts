import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { type RequestContext, RequestContexts } from './request-context';

/** A client's id is kept only if it is short and plain: no spaces, quotes or control characters. */
const WELL_FORMED = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Gives every request an id: the client's `X-Request-Id` when well-formed, a fresh UUID
 * otherwise. It is returned on every response and carried by every log line and problem body.
 * `onContext` sees the request's context before anything else runs (the request log line).
 */
export function requestIdMiddleware(
  onContext?: (req: Request, res: Response, context: RequestContext) => void,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    const userAgent = req.headers['user-agent'];
    // req.ip honours TRUSTED_PROXIES (Express "trust proxy"), so it is the real client address.
    const context: RequestContext = { requestId: id, ip: req.ip, userAgent: userAgent?.slice(0, 512) };
    onContext?.(req, res, context);
    RequestContexts.run(context, next);
  };
}

/** The id given to this request by `requestIdMiddleware`. */
export function requestIdOf(req: Request): string {
  return typeof req.id === 'string' ? req.id : '';
}

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id given by `requestIdMiddleware`. */
    id?: string;
  }
}
