import { assertPublicDestination } from '../../common/net/outbound';

/**
 * Report webhooks: a JSON POST, retried on what may pass (a network error or timeout, 408, 429,
 * 5xx) after growing delays; any other answer is final. Returns what happened, for the log and
 * the owner's notice. No Nest, no database.
 */
export interface WebhookOutcome {
  ok: boolean;
  attempts: number;
  /** The last HTTP status, or null when the last attempt got no answer. */
  status: number | null;
  error: string | null;
}

/** Waits before the 2nd, 3rd and 4th attempt. */
export const WEBHOOK_RETRY_DELAYS_MS = [500, 2_000, 8_000];

const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export async function postWebhook(
  url: string,
  body: unknown,
  options: {
    timeoutMs?: number;
    delaysMs?: number[];
    sleep?: (ms: number) => Promise<void>;
    /** Refuse private and loopback destinations (REPORTS_WEBHOOK_BLOCK_PRIVATE); final, not retried. */
    blockPrivate?: boolean;
  } = {},
): Promise<WebhookOutcome> {
  const delays = options.delaysMs ?? WEBHOOK_RETRY_DELAYS_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const payload = JSON.stringify(body);
  let outcome: WebhookOutcome = { ok: false, attempts: 0, status: null, error: null };
  for (let attempt = 1; attempt <= delays.length + 1; attempt++) {
    if (attempt > 1) await sleep(delays[attempt - 2]);
    if (options.blockPrivate) {
      try {
        await assertPublicDestination(url, 'REPORTS_WEBHOOK_BLOCK_PRIVATE');
      } catch (err) {
        return { ok: false, attempts: attempt, status: null, error: (err as Error).message };
      }
    }
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300)
        return { ok: true, attempts: attempt, status: res.status, error: null };
      outcome = { ok: false, attempts: attempt, status: res.status, error: `HTTP ${res.status}` };
      if (!retryable(res.status)) return outcome;
    } catch (err) {
      outcome = { ok: false, attempts: attempt, status: null, error: (err as Error).message };
    }
  }
  return outcome;
}
