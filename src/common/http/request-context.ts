import { AsyncLocalStorage } from 'node:async_hooks';

/** Who is acting: filled in by the security guard once credentials are checked. */
export interface Actor {
  type: 'user' | 'api_key' | 'system';
  /** The user id for `user`, the API key id for `api_key`, a component name for `system`. */
  id: string;
  /** The user behind an API key (or the user itself). */
  userId?: string;
}

/** What every layer may want to know about the request it serves, without being handed it. */
export interface RequestContext {
  requestId: string;
  ip?: string;
  userAgent?: string;
  actor?: Actor;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const RequestContexts = {
  run<T>(context: RequestContext, fn: () => T): T {
    return storage.run(context, fn);
  },
  /** The current request's context, or undefined outside a request (cron jobs, start-up). */
  current(): RequestContext | undefined {
    return storage.getStore();
  },
};
