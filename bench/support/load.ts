import autocannon from 'autocannon';
import { intFromEnv } from './bastion';

export interface LoadSettings {
  connections: number;
  /** Seconds measured. */
  duration: number;
  /** Seconds of unmeasured load first (JIT, pools, caches), with the same connections. */
  warmup: number;
}

/** BENCH_CONNECTIONS (20), BENCH_DURATION (10 s) and BENCH_WARMUP (2 s), as every load benchmark reads them. */
export function loadSettingsFromEnv(): LoadSettings {
  return {
    connections: intFromEnv('BENCH_CONNECTIONS', 20),
    duration: intFromEnv('BENCH_DURATION', 10),
    warmup: intFromEnv('BENCH_WARMUP', 2),
  };
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
  /**
   * CPU time (user + system) the server process used per request over the measured run, in µs,
   * when `cpuMs` was given: unlike rps it hardly moves with other load on the machine.
   */
  cpuUsPerRequest?: number;
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
  /** The server's CPU time so far in ms (`ServerProcess.cpuMs`), read around the measured run. */
  cpuMs?: () => number | undefined,
): Promise<LoadResult> {
  const run = async (duration: number): Promise<autocannon.Result> => {
    let next = 0;
    return await autocannon({
      url: request.url,
      method: request.method,
      connections: settings.connections,
      duration,
      timeout: 30,
      setupClient: (client) => {
        const { headers, body } = request.perClient(next++);
        client.setHeadersAndBody(headers, body);
      },
    });
  };
  // The warm-up is a run of its own, so the CPU read after it covers the measured run only.
  if (settings.warmup > 0) await run(settings.warmup);
  const cpuBefore = cpuMs?.();
  const result = await run(settings.duration);
  const cpuAfter = cpuMs?.();
  const requests = result['2xx'] + result.non2xx;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors,
    statusCodes,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && requests > 0
      ? { cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1000) / requests }
      : {}),
  };
}
