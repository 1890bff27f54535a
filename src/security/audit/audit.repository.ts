import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import type { AuditEntry } from './audit-chain';
import { AuditChainHead } from './audit-chain-head.entity';
import { AuditEvent } from './audit-event.entity';

/** The chain head (`audit_chain_head`, one row) as `record` locks it. */
export interface RawChainHead {
  seq: string;
  hash: string;
}

/** The chain head with the key version of the entry it names (null: no entry yet). */
export interface RawChainHeadKey {
  seq: string;
  key_version: number | null;
}

/** Filters of an audit listing; every one given must match. Instants already validated. */
export interface AuditEventFilter {
  actorId?: string;
  actorType?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
}

/**
 * The SQL of the audit log (`audit_events`, `audit_chain_head`). Appends go through the caller's
 * transaction manager (the head's row lock serialises them); reads use the data source's.
 */
@Injectable()
export class AuditRepository {
  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    @InjectRepository(AuditChainHead) private readonly heads: Repository<AuditChainHead>,
  ) {}

  /** The head locked for the transaction, with the key version of its entry. */
  async lockHeadWithKeyVersion(manager: EntityManager): Promise<RawChainHeadKey | undefined> {
    const [head] = await manager.query<RawChainHeadKey[]>(
      `SELECT h.seq, e.key_version FROM audit_chain_head h LEFT JOIN audit_events e ON e.seq = h.seq
        WHERE h.id = 1 FOR UPDATE OF h`,
    );
    return head;
  }

  /** The head locked for the transaction: appends wait here for one another. */
  async lockHead(manager: EntityManager): Promise<RawChainHead | undefined> {
    const [head] = await manager.query<RawChainHead[]>(
      'SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE',
    );
    return head;
  }

  /** Appends a sealed entry and moves the head onto it (call with the head locked). */
  async append(manager: EntityManager, entry: AuditEntry): Promise<void> {
    // One round trip for both writes: the head lock is held until commit, so every statement
    // between taking it and committing delays the next audited write, on every instance.
    await manager.query(
      `WITH appended AS (
         INSERT INTO audit_events
           (id, seq, occurred_at, actor_type, actor_id, action, target_type, target_id, outcome, ip, request_id,
            details, prev_hash, hash, key_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15))
       UPDATE audit_chain_head SET seq = $2, hash = $14 WHERE id = 1`,
      [
        entry.id,
        entry.seq,
        entry.occurredAt,
        entry.actorType,
        entry.actorId,
        entry.action,
        entry.targetType,
        entry.targetId,
        entry.outcome,
        entry.ip,
        entry.requestId,
        JSON.stringify(entry.details),
        entry.prevHash,
        entry.hash,
        entry.keyVersion,
      ],
    );
  }

  /** Newest first (keyset on `seq`); `limit + 1` rows so the caller can tell if more follow. */
  listPage(filter: AuditEventFilter, afterSeq: string | undefined, limit: number): Promise<AuditEvent[]> {
    const qb = this.events.createQueryBuilder('e');
    if (filter.actorId !== undefined) qb.andWhere('e.actorId = :actorId', { actorId: filter.actorId });
    if (filter.actorType !== undefined) qb.andWhere('e.actorType = :actorType', { actorType: filter.actorType });
    if (filter.action !== undefined) qb.andWhere('e.action = :action', { action: filter.action });
    if (filter.targetType !== undefined) qb.andWhere('e.targetType = :targetType', { targetType: filter.targetType });
    if (filter.targetId !== undefined) qb.andWhere('e.targetId = :targetId', { targetId: filter.targetId });
    if (filter.outcome !== undefined) qb.andWhere('e.outcome = :outcome', { outcome: filter.outcome });
    if (filter.from !== undefined) qb.andWhere('e.occurredAt >= :from', { from: filter.from });
    if (filter.to !== undefined) qb.andWhere('e.occurredAt < :to', { to: filter.to });
    if (afterSeq !== undefined) qb.andWhere('e.seq < :afterSeq', { afterSeq });
    return qb
      .orderBy('e.seq', 'DESC')
      .take(limit + 1)
      .getMany();
  }

  /** The head row, unlocked (verification reads it first: every entry up to it has committed). */
  head(): Promise<AuditChainHead | null> {
    return this.heads.findOneBy({ id: 1 });
  }

  /** Up to `size` entries after `afterSeq` and up to `headSeq`, oldest first. */
  chainPage(afterSeq: string, headSeq: string, size: number): Promise<AuditEvent[]> {
    return this.events
      .createQueryBuilder('e')
      .where('e.seq > :afterSeq', { afterSeq })
      .andWhere('e.seq <= :headSeq', { headSeq })
      .orderBy('e.seq', 'ASC')
      .take(size)
      .getMany();
  }

  /** The oldest entry beyond the head as it is now, if any (none should exist). */
  firstBeyondHead(): Promise<AuditEvent | null> {
    return this.events
      .createQueryBuilder('e')
      .where('e.seq > (SELECT h.seq FROM audit_chain_head h WHERE h.id = 1)')
      .orderBy('e.seq', 'ASC')
      .take(1)
      .getOne();
  }
}
