import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_HOURS, type IdempotentRequest } from './idempotency';

export interface Answer<T> {
  status: number;
  body: T;
}

interface StoredKey {
  request_method: string;
  request_path: string;
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
}

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the first answer to a keyed
 * request is stored in the same transaction as the work, and a retry with the same key and the
 * same request gets that answer back without doing the work again.
 *
 * The key row is inserted before the work, so a concurrent retry waits on it (the unique index)
 * until the first commits, then replays; if the first rolls back, the retry does the work itself.
 * Only answers of committed work are stored: a request that failed stored nothing and may be
 * retried with the same key. Keys are per user and expire after IDEMPOTENCY_TTL_HOURS.
 */
@Injectable()
export class IdempotencyService {
  async run<T>(
    manager: EntityManager,
    request: IdempotentRequest | undefined,
    work: () => Promise<Answer<T>>,
  ): Promise<Answer<T> & { replayed: boolean }> {
    if (!request) return { ...(await work()), replayed: false };
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('IdempotencyService.run needs the EntityManager of an open transaction');
    }
    if (!(await this.claim(manager, request))) {
      // Taken: by an answer to replay, or by one that expired (deleted, then claimed afresh).
      const expired = await manager.query<unknown[]>(
        `DELETE FROM idempotency_keys
          WHERE user_id = $1 AND key = $2 AND created_at < now() - make_interval(hours => $3)
          RETURNING key`,
        [request.userId, request.key, IDEMPOTENCY_TTL_HOURS],
      );
      if (expired.length === 0 || !(await this.claim(manager, request))) {
        return { ...(await this.replay<T>(manager, request)), replayed: true };
      }
    }

    const answer = await work();
    // Stores the answer, and clears this user's expired keys on the way (one statement).
    await manager.query(
      `WITH expired AS (
         DELETE FROM idempotency_keys
          WHERE user_id = $1 AND key <> $2 AND created_at < now() - make_interval(hours => $5)
       )
       UPDATE idempotency_keys SET status_code = $3, response_body = $4::json WHERE user_id = $1 AND key = $2`,
      [request.userId, request.key, answer.status, JSON.stringify(answer.body), IDEMPOTENCY_TTL_HOURS],
    );
    return { ...answer, replayed: false };
  }

  /** Inserts the key row; false if the key is already taken (waits for a concurrent holder first). */
  private async claim(manager: EntityManager, request: IdempotentRequest): Promise<boolean> {
    const inserted = await manager.query<{ key: string }[]>(
      `INSERT INTO idempotency_keys (user_id, key, request_method, request_path, request_hash)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, key) DO NOTHING
       RETURNING key`,
      [request.userId, request.key, request.method, request.path, request.hash],
    );
    return inserted.length > 0;
  }

  private async replay<T>(manager: EntityManager, request: IdempotentRequest): Promise<Answer<T>> {
    const [stored] = await manager.query<StoredKey[]>(
      `SELECT request_method, request_path, request_hash, status_code, response_body
         FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [request.userId, request.key],
    );
    if (
      !stored ||
      stored.request_method !== request.method ||
      stored.request_path !== request.path ||
      stored.request_hash !== request.hash
    ) {
      throw new AppException(
        ErrorCode.IdempotencyKeyReused,
        `This ${IDEMPOTENCY_HEADER} was already used for a different request; use a new key for a new request.`,
        { errors: [{ field: IDEMPOTENCY_HEADER, message: 'already used with a different method, path or body' }] },
      );
    }
    if (stored.status_code === null) {
      // Unreachable while the key row is written in the work's transaction; kept as a safe answer.
      throw new AppException(ErrorCode.Conflict, 'A request with this key is still being processed; retry later.');
    }
    return { status: stored.status_code, body: stored.response_body as T };
  }
}
