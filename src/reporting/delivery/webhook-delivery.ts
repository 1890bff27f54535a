import { assertPublicDestination } from '../../common/net/outbound';

/**
 * Report webhooks: one JSON POST and what came of it. Whether to try again is the outbox's
 * decision ({@link nextDelay}); this module knows which answers may pass on a later attempt (a
 * network error or timeout, 408, 429, 5xx) and which are final. No Nest, no database.
 */
export interface WebhookOutcome {
  ok: boolean;
  /** The HTTP status, or null when nothing answered (or the destination was refused). */
  status: number | null;
  error: string | null;
  /** Worth another attempt later. */
  retryable: boolean;
}

/** Waits before the 2nd, 3rd and 4th attempt of a report delivery; after the 4th it has failed. */
export const DELIVERY_RETRY_DELAYS_MS = [500, 2_000, 8_000];

/** The wait before the next attempt after `attempts` attempts, or null when they are used up. */
export function nextDelay(attempts: number, delaysMs: readonly number[] = DELIVERY_RETRY_DELAYS_MS): number | null {
  return attempts >= 1 && attempts <= delaysMs.length ? delaysMs[attempts - 1] : null;
}

const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export async function postWebhook(
  url: string,
  body: unknown,
  options: {
    timeoutMs?: number;
    /** Sent as X-Bastion-Delivery: the same on every attempt, so a receiver can drop repeats. */
    deliveryId?: string;
    /** Refuse private and loopback destinations (REPORTS_WEBHOOK_BLOCK_PRIVATE): final. */
    blockPrivate?: boolean;
  } = {},
): Promise<WebhookOutcome> {
  if (options.blockPrivate) {
    try {
      await assertPublicDestination(url, 'REPORTS_WEBHOOK_BLOCK_PRIVATE');
    } catch (err) {
      return { ok: false, status: null, error: (err as Error).message, retryable: false };
    }
  }
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Bastion-Reports',
        ...(options.deliveryId ? { 'x-bastion-delivery': options.deliveryId } : {}),
      },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null, retryable: false };
    return { ok: false, status: res.status, error: `HTTP ${res.status}`, retryable: retryable(res.status) };
  } catch (err) {
    return { ok: false, status: null, error: (err as Error).message, retryable: true };
  }
}
