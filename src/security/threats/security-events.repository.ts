import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import { SecurityEvent, type SecurityEventType, type Severity } from './security-event.entity';

/** The optional filters of the security event list. */
export interface SecurityEventListFilter {
  type?: SecurityEventType;
  severity?: Severity;
  ip?: string;
  userId?: string;
  from?: string;
  to?: string;
  limit: number;
  after?: KeysetPosition;
}

/** Every statement on `security_events`. */
@Injectable()
export class SecurityEventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  insert(
    data: Pick<SecurityEvent, 'type' | 'severity' | 'ip' | 'userId' | 'details' | 'occurredAt'>,
  ): Promise<SecurityEvent> {
    const repo = this.dataSource.getRepository(SecurityEvent);
    return repo.save(repo.create(data));
  }

  /** Newest first on (occurred_at, id), `limit` rows after `after`, with the optional filters. */
  listEvents(filter: SecurityEventListFilter): Promise<SecurityEvent[]> {
    const qb = this.dataSource.getRepository(SecurityEvent).createQueryBuilder('e');
    if (filter.type) qb.andWhere('e.type = :type', { type: filter.type });
    if (filter.severity) qb.andWhere('e.severity = :severity', { severity: filter.severity });
    if (filter.ip) qb.andWhere('e.ip = :ip', { ip: filter.ip });
    if (filter.userId) qb.andWhere('e.user_id = :userId', { userId: filter.userId });
    if (filter.from) qb.andWhere('e.occurred_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('e.occurred_at < :to', { to: filter.to });
    const { after } = filter;
    if (after) qb.andWhere('(e.occurred_at, e.id) < (:k, :id)', { k: after.k, id: after.id });
    return qb.orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC').limit(filter.limit).getMany();
  }
}
