import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { RequestContexts } from '../../common/http/request-context';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { type ActivityType, UserActivity } from './user-activity.entity';

export interface ActivityRecord {
  userId: string;
  type: ActivityType;
  details?: Record<string, unknown>;
}

/** A user's own history: logins, failures, changes. IP, user agent and API key come from the request. */
@Injectable()
export class ActivityService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(record: ActivityRecord, manager?: EntityManager): Promise<void> {
    const ctx = RequestContexts.current();
    const repo = (manager ?? this.dataSource.manager).getRepository(UserActivity);
    const activity = repo.create({
      userId: record.userId,
      type: record.type,
      details: record.details ?? {},
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent ?? null,
      apiKeyId: ctx?.actor?.type === 'api_key' ? ctx.actor.id : null,
      occurredAt: new Date(),
    });
    await repo.save(activity);
  }

  async list(userId: string, page: { limit?: number; cursor?: string }): Promise<Page<UserActivity>> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const qb = this.dataSource
      .getRepository(UserActivity)
      .createQueryBuilder('a')
      .where('a.user_id = :userId', { userId });
    const after = decodeCursor(page.cursor, 'time');
    if (after) qb.andWhere('(a.occurred_at, a.id) < (:k, :id)', { k: after.k, id: after.id });
    const rows = await qb
      .orderBy('a.occurred_at', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    return toPage(
      rows,
      limit,
      (a) => ({ k: a.occurredAt.toISOString(), id: a.id }),
      (a) => a,
    );
  }
}
