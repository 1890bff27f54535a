import { Logger } from '@nestjs/common';
import {
  type EntityManager,
  EventSubscriber,
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
} from 'typeorm';

/** Work deferred until a transaction commits, with the nesting depth it was queued at. */
interface Deferred {
  depth: number;
  run: () => void;
}

const pending = new WeakMap<QueryRunner, Deferred[]>();
const logger = new Logger('AfterCommit');

/**
 * Runs `work` once the transaction `manager` belongs to has committed, and never if it rolls back
 * (a rolled-back savepoint drops what was queued inside it). Outside a transaction it runs now.
 *
 * For what must not be seen before the data is: events (a subscriber would read the row, or react
 * to a sign-in that did not happen), cache invalidations. `work` runs synchronously right after
 * COMMIT, before `dataSource.transaction()` resolves; a failure is logged and never turns the
 * committed change into an error answer (the client would retry something that succeeded).
 */
export function afterCommit(manager: EntityManager, work: () => void): void {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    runSafely(work);
    return;
  }
  if (!runner.connection.subscribers.some((s) => s instanceof AfterCommitSubscriber)) {
    throw new Error('afterCommit needs AfterCommitSubscriber among the data source subscribers (dataSourceOptions)');
  }
  const queue = pending.get(runner) ?? [];
  queue.push({ depth: depthOf(runner), run: work });
  pending.set(runner, queue);
}

/** TypeORM subscriber that releases `afterCommit` work on commit and drops it on rollback. */
@EventSubscriber()
export class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const queue = pending.get(runner);
    if (!queue) return;
    if (runner.isTransactionActive) {
      // A savepoint was released: its work now belongs to the enclosing transaction.
      const depth = depthOf(runner);
      for (const d of queue) d.depth = Math.min(d.depth, depth);
      return;
    }
    pending.delete(runner);
    for (const d of queue) runSafely(d.run);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const queue = pending.get(runner);
    if (!queue) return;
    if (!runner.isTransactionActive) {
      pending.delete(runner);
      return;
    }
    // Back to a savepoint: only the work queued inside it is dropped.
    const depth = depthOf(runner);
    pending.set(
      runner,
      queue.filter((d) => d.depth <= depth),
    );
  }
}

/** Nesting depth of the runner's transaction (1: outermost); TypeORM keeps it on the runner. */
function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth?: number }).transactionDepth ?? 1;
}

function runSafely(work: () => void): void {
  try {
    work();
  } catch (err) {
    logger.error('work deferred until commit failed', err instanceof Error ? err.stack : String(err));
  }
}
