/**
 * The part of autocannon 8's programmatic API the benchmarks use (the package ships no typings
 * and there is no @types/autocannon installed). See node_modules/autocannon/README.md.
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Client extends EventEmitter {
      setHeaders(headers: Record<string, string> | undefined): void;
      setBody(body: string | Buffer | undefined): void;
      setHeadersAndBody(headers: Record<string, string> | undefined, body: string | Buffer | undefined): void;
    }

    interface Options {
      url: string;
      method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      headers?: Record<string, string>;
      body?: string | Buffer;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      setupClient?: (client: Client) => void;
      /** A run before the measured one, with these overrides; its results are not in the result. */
      warmup?: { connections?: number; duration?: number };
    }

    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p97_5: number;
      p99: number;
      p99_9: number;
    }

    interface Result {
      url: string;
      /** Requests per one-second sample. */
      requests: Histogram;
      /** Milliseconds, 2xx responses only. */
      latency: Histogram;
      throughput: Histogram;
      /** Seconds, as measured. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;

  export = autocannon;
}
