import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { redactSecrets } from '../audit/audit-chain';
import { SecurityEvent, type SecurityEventType, type Severity } from './security-event.entity';
import { SECURITY_EVENT_RECORDED } from './threat.events';

export interface SecurityEventFilter {
  type?: SecurityEventType;
  severity?: Severity;
  ip?: string;
  userId?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

/** Stores security events and announces each in process (`security.event`) for the live gateway. */
@Injectable()
export class SecurityEventsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventEmitter2,
  ) {}

  async record(input: {
    type: SecurityEventType;
    severity: Severity;
    ip?: string | null;
    userId?: string | null;
    details?: Record<string, unknown>;
  }): Promise<SecurityEvent> {
    const repo = this.dataSource.getRepository(SecurityEvent);
    const event = await repo.save(
      repo.create({
        type: input.type,
        severity: input.severity,
        ip: input.ip ?? null,
        userId: input.userId ?? null,
        details: redactSecrets(input.details ?? {}),
        occurredAt: new Date(),
      }),
    );
    this.events.emit(SECURITY_EVENT_RECORDED, event);
    return event;
  }

  async list(filter: SecurityEventFilter): Promise<Page<SecurityEvent>> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const qb = this.dataSource.getRepository(SecurityEvent).createQueryBuilder('e');
    if (filter.type) qb.andWhere('e.type = :type', { type: filter.type });
    if (filter.severity) qb.andWhere('e.severity = :severity', { severity: filter.severity });
    if (filter.ip) qb.andWhere('e.ip = :ip', { ip: filter.ip });
    if (filter.userId) qb.andWhere('e.user_id = :userId', { userId: filter.userId });
    if (filter.from) qb.andWhere('e.occurred_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('e.occurred_at < :to', { to: filter.to });
    const after = decodeCursor(filter.cursor, 'time');
    if (after) qb.andWhere('(e.occurred_at, e.id) < (:k, :id)', { k: after.k, id: after.id });
    const rows = await qb
      .orderBy('e.occurred_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    return toPage(
      rows,
      limit,
      (e) => ({ k: e.occurredAt.toISOString(), id: e.id }),
      (e) => e,
    );
  }
}
