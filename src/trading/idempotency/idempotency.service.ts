import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_HOURS, type IdempotentRequest } from './idempotency';
import { IdempotencyRepository } from './idempotency.repository';

export interface Answer<T> {
  status: number;
  body: T;
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
  constructor(private readonly repo: IdempotencyRepository) {}

  async run<T>(
    manager: EntityManager,
    request: IdempotentRequest | undefined,
    work: () => Promise<Answer<T>>,
  ): Promise<Answer<T> & { replayed: boolean }> {
    if (!request) return { ...(await work()), replayed: false };
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('IdempotencyService.run needs the EntityManager of an open transaction');
    }
    if (!(await this.repo.claim(manager, request))) {
      // Taken: by an answer to replay, or by one that expired (deleted, then claimed afresh).
      const expired = await this.repo.deleteIfExpired(manager, request.userId, request.key, IDEMPOTENCY_TTL_HOURS);
      if (!expired || !(await this.repo.claim(manager, request))) {
        return { ...(await this.replay<T>(manager, request)), replayed: true };
      }
    }

    const answer = await work();
    // Stores the answer, and clears this user's expired keys on the way (one statement).
    await this.repo.storeAnswer(manager, request.userId, request.key, answer, IDEMPOTENCY_TTL_HOURS);
    return { ...answer, replayed: false };
  }

  private async replay<T>(manager: EntityManager, request: IdempotentRequest): Promise<Answer<T>> {
    const stored = await this.repo.find(manager, request.userId, request.key);
    if (!stored || stored.method !== request.method || stored.path !== request.path || stored.hash !== request.hash) {
      throw new AppException(
        ErrorCode.IdempotencyKeyReused,
        `This ${IDEMPOTENCY_HEADER} was already used for a different request; use a new key for a new request.`,
        { errors: [{ field: IDEMPOTENCY_HEADER, message: 'already used with a different method, path or body' }] },
      );
    }
    if (stored.statusCode === null) {
      // Unreachable while the key row is written in the work's transaction; kept as a safe answer.
      throw new AppException(ErrorCode.Conflict, 'A request with this key is still being processed; retry later.');
    }
    return { status: stored.statusCode, body: stored.responseBody as T };
  }
}
