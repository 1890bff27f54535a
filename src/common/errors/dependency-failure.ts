/**
 * Telling an outage from a bug. A request that fails because PostgreSQL or Redis cannot serve it
 * (unreachable, restarting, out of connections, out of disk) is answered 503 with Retry-After, so
 * that clients and load balancers retry; everything else stays a 500. Pure functions, no Nest.
 */
export type Dependency = 'database' | 'redis';

/** Thrown by code that knows a dependency is unavailable (e.g. a pool that has been closed). */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

/**
 * PostgreSQL SQLSTATEs that mean "the server cannot serve this now", not "this request is wrong":
 * class 08 (connection exception), 53 (insufficient resources: disk full, out of memory, too many
 * connections), 57P01–57P03 (admin/crash shutdown, cannot connect now), 58 (system I/O error),
 * 40001/40P01 are retryable too but are answered as conflicts elsewhere, so not listed here.
 */
export function isUnavailableSqlState(code: string): boolean {
  return /^(08|53|58)[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03';
}

/** Socket-level errors: nobody answers at that address, or the connection was cut. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** What pg and pg-pool say when a connection is gone or cannot be had in time. */
const PG_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
  /^Client was closed and is not queryable/,
  /^Connection ended unexpectedly/,
];

/** What ioredis says when Redis cannot be reached. */
const REDIS_MESSAGES = [/^Connection is closed\.?$/, /^Stream isn't writeable/, /^Reached the max retries per request/];

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  stack?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * The dependency whose unavailability caused `err`, or undefined for anything else (a defect, a
 * constraint violation, a bad query). Walks TypeORM's `driverError`, `cause` and AggregateError
 * members (pg reports ECONNREFUSED for ::1 and 127.0.0.1 together).
 */
export function dependencyFailureOf(err: unknown, depth = 0): Dependency | undefined {
  if (!err || typeof err !== 'object' || depth > 5) return undefined;
  if (err instanceof DependencyUnavailableError) return err.dependency;
  const e = err as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const stack = typeof e.stack === 'string' ? e.stack : '';

  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((re) => re.test(message))) return 'redis';
  if (code && isUnavailableSqlState(code)) return 'database';
  if (PG_CONNECTION_MESSAGES.some((re) => re.test(message))) return 'database';
  if (NETWORK_CODES.has(code)) return /ioredis/.test(stack) ? 'redis' : 'database';
  // A Unix-socket database (embedded mode) that is not there.
  if (code === 'ENOENT' && /\.s\.PGSQL\./.test(message)) return 'database';

  for (const inner of [e.driverError, e.cause]) {
    const found = dependencyFailureOf(inner, depth + 1);
    if (found) return found;
  }
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = dependencyFailureOf(inner, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}
