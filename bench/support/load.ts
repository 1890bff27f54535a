import autocannon from 'autocannon';

export interface LoadSettings {
  connections: number;
  /** Seconds measured. */
  duration: number;
  /** Seconds of unmeasured load first (JIT, pools, caches), with the same connections. */
  warmup: number;
}

export interface LoadResult {
  /** 2xx responses per second over the measured run. */
  rps: number;
  /** Milliseconds, over 2xx responses. */
  p50: number;
  p99: number;
  ok: number;
  /** Non-2xx answers plus connection errors and timeouts: should be 0. */
  failed: number;
  statusCodes: Record<string, number>;
}

/**
 * Drives one endpoint with autocannon (in this process, one thread). Client `i` (one per
 * connection) sends `perClient(i)`'s headers and body, so connections can act as different users.
 */
export async function load(
  settings: LoadSettings,
  request: {
    url: string;
    method: 'GET' | 'POST';
    perClient: (index: number) => { headers: Record<string, string>; body?: string };
  },
): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: request.url,
    method: request.method,
    connections: settings.connections,
    duration: settings.duration,
    timeout: 30,
    ...(settings.warmup > 0 ? { warmup: { duration: settings.warmup } } : {}),
    setupClient: (client) => {
      const { headers, body } = request.perClient(next++);
      client.setHeadersAndBody(headers, body);
    },
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors,
    statusCodes,
  };
}
