import { createHash } from 'node:crypto';
import { AppException } from '../../common/errors/app.exception';
import { canonicalJson } from '../../security/audit/audit-chain';

/** The header clients send: any string of 1-255 printable ASCII characters (a UUID is typical). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** How long a stored answer is replayed; after that the key may be used afresh. */
export const IDEMPOTENCY_TTL_HOURS = 24;

const KEY = /^[ -~]{1,255}$/;

/** What identifies a request for replay: who sent it, with which key, to where, with what body. */
export interface IdempotentRequest {
  userId: string;
  key: string;
  method: string;
  /** The concrete path, e.g. /api/v1/portfolios/<id>/trades/bulk. */
  path: string;
  /** SHA-256 hex of the canonical JSON of the (validated) body. */
  hash: string;
}

/** Validates the header value; undefined when absent. A bad value is a 400 naming the header. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY.test(value) || value.trim() !== value) {
    throw AppException.validation([
      {
        field: IDEMPOTENCY_HEADER,
        message: `${IDEMPOTENCY_HEADER} must be 1-255 printable ASCII characters without leading or trailing spaces`,
      },
    ]);
  }
  return value;
}

/**
 * The hash two requests must share to count as the same: key order and whitespace do not matter,
 * values do (a different price is a different request).
 */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(body ?? null))
    .digest('hex');
}
