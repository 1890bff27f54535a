import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { IdempotentRequest } from './idempotency';

/** One row of `idempotency_keys` as a replay reads it. */
interface RawStoredKey {
  request_method: string;
  request_path: string;
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
}

export interface StoredKey {
  method: string;
  path: string;
  hash: string;
  /** Null while the first request's work has not stored its answer. */
  statusCode: number | null;
  responseBody: unknown;
}

function mapStoredKey(r: RawStoredKey): StoredKey {
  return {
    method: r.request_method,
    path: r.request_path,
    hash: r.request_hash,
    statusCode: r.status_code,
    responseBody: r.response_body,
  };
}

/**
 * Every statement on `idempotency_keys`. Each runs in the transaction of the work the key
 * protects, so every method takes that transaction's manager.
 */
@Injectable()
export class IdempotencyRepository {
  /** Inserts the key row; false if the key is already taken (waits for a concurrent holder first). */
  async claim(manager: EntityManager, request: IdempotentRequest): Promise<boolean> {
    const inserted = await manager.query<{ key: string }[]>(
      `INSERT INTO idempotency_keys (user_id, key, request_method, request_path, request_hash)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, key) DO NOTHING
       RETURNING key`,
      [request.userId, request.key, request.method, request.path, request.hash],
    );
    return inserted.length > 0;
  }

  /** Deletes the key if it is older than `ttlHours`; false when it is not (or no longer there). */
  async deleteIfExpired(manager: EntityManager, userId: string, key: string, ttlHours: number): Promise<boolean> {
    const expired = await manager.query<unknown[]>(
      `DELETE FROM idempotency_keys
          WHERE user_id = $1 AND key = $2 AND created_at < now() - make_interval(hours => $3)
          RETURNING key`,
      [userId, key, ttlHours],
    );
    return expired.length > 0;
  }

  /** Stores the answer of the key's work, and clears the user's other expired keys (one statement). */
  async storeAnswer(
    manager: EntityManager,
    userId: string,
    key: string,
    answer: { status: number; body: unknown },
    ttlHours: number,
  ): Promise<void> {
    await manager.query(
      `WITH expired AS (
         DELETE FROM idempotency_keys
          WHERE user_id = $1 AND key <> $2 AND created_at < now() - make_interval(hours => $5)
       )
       UPDATE idempotency_keys SET status_code = $3, response_body = $4::json WHERE user_id = $1 AND key = $2`,
      [userId, key, answer.status, JSON.stringify(answer.body), ttlHours],
    );
  }

  async find(manager: EntityManager, userId: string, key: string): Promise<StoredKey | null> {
    const [stored] = await manager.query<RawStoredKey[]>(
      `SELECT request_method, request_path, request_hash, status_code, response_body
         FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [userId, key],
    );
    return stored ? mapStoredKey(stored) : null;
  }
}
