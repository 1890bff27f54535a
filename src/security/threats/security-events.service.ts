import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { redactSecrets } from '../audit/audit-chain';
import type { SecurityEvent, SecurityEventType, Severity } from './security-event.entity';
import { type SecurityEventListFilter, SecurityEventsRepository } from './security-events.repository';
import { SECURITY_EVENT_RECORDED } from './threat.events';

export interface SecurityEventFilter extends Omit<SecurityEventListFilter, 'limit' | 'after'> {
  limit?: number;
  cursor?: string;
}

/** Stores security events and announces each in process (`security.event`) for the live gateway. */
@Injectable()
export class SecurityEventsService {
  constructor(
    private readonly repo: SecurityEventsRepository,
    private readonly events: EventEmitter2,
  ) {}

  async record(input: {
    type: SecurityEventType;
    severity: Severity;
    ip?: string | null;
    userId?: string | null;
    details?: Record<string, unknown>;
  }): Promise<SecurityEvent> {
    const event = await this.repo.insert({
      type: input.type,
      severity: input.severity,
      ip: input.ip ?? null,
      userId: input.userId ?? null,
      details: redactSecrets(input.details ?? {}),
      occurredAt: new Date(),
    });
    this.events.emit(SECURITY_EVENT_RECORDED, event);
    return event;
  }

  async list(filter: SecurityEventFilter): Promise<Page<SecurityEvent>> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const { cursor, ...filters } = filter;
    const rows = await this.repo.listEvents({ ...filters, limit: limit + 1, after: decodeCursor(cursor, 'time') });
    return toPage(
      rows,
      limit,
      (e) => ({ k: e.occurredAt.toISOString(), id: e.id }),
      (e) => e,
    );
  }
}
