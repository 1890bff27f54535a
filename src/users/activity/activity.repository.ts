import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import { type ActivityType, UserActivity } from './user-activity.entity';

/** Every statement on `user_activity`. */
@Injectable()
export class ActivityRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    row: {
      userId: string;
      type: ActivityType;
      details: Record<string, unknown>;
      ip: string | null;
      userAgent: string | null;
      apiKeyId: string | null;
      occurredAt: Date;
    },
    manager?: EntityManager,
  ): Promise<void> {
    const repo = (manager ?? this.dataSource.manager).getRepository(UserActivity);
    await repo.save(repo.create(row));
  }

  /** The user's activity, newest first on (occurred_at, id), `limit` rows after `after`. */
  listActivity(userId: string, filter: { limit: number; after?: KeysetPosition }): Promise<UserActivity[]> {
    const qb = this.dataSource
      .getRepository(UserActivity)
      .createQueryBuilder('a')
      .where('a.user_id = :userId', { userId });
    const { after } = filter;
    if (after) qb.andWhere('(a.occurred_at, a.id) < (:k, :id)', { k: after.k, id: after.id });
    return qb.orderBy('a.occurred_at', 'DESC').addOrderBy('a.id', 'DESC').limit(filter.limit).getMany();
  }
}
