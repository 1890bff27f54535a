import type { IncomingMessage, ServerResponse } from 'node:http';
import type helmet from 'helmet';

type Helmet = ReturnType<typeof helmet>;

/**
 * The headers a helmet configuration sets, computed once. helmet runs eleven small middlewares
 * per request that always set the same values (nothing in them depends on the request); this
 * runs them once against a recording response and returns the list to set on every answer.
 * Headers helmet removes (`X-Powered-By`) are listed in `removed`.
 */
export function constantHelmetHeaders(middleware: Helmet): { set: [string, string][]; removed: string[] } {
  const set = new Map<string, string>();
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      return recorder;
    },
    removeHeader(name: string) {
      removed.push(name);
    },
    getHeader: () => undefined,
  } as unknown as ServerResponse;
  let called = false;
  middleware({ method: 'GET', url: '/', headers: {} } as IncomingMessage, recorder, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error('helmet failed', { cause: err });
    called = true;
  });
  // helmet's middlewares are synchronous: if that ever changes, this must not silently drop headers.
  if (!called) throw new Error('helmet did not finish synchronously: its headers cannot be precomputed');
  return { set: [...set.entries()], removed };
}
