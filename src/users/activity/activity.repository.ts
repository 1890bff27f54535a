import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import { type ActivityType, UserActivity } from './user-activity.entity';

/** Every statement on `user_activities`. */
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
    // One plain INSERT: it runs in every sign-in's transaction, where TypeORM's save() (insert
    // builder, entity transformation, RETURNING) cost more CPU than the statement (bench:profile).
    await (manager ?? this.dataSource.manager).query(
      `INSERT INTO user_activities (user_id, type, details, ip, user_agent, api_key_id, occurred_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)`,
      [row.userId, row.type, JSON.stringify(row.details), row.ip, row.userAgent, row.apiKeyId, row.occurredAt],
    );
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

  /**
   * Whether the user signed in before (other than in `exceptSessionId`), and whether one of those
   * sign-ins came from this IP and user agent.
   */
  async loginHistory(
    userId: string,
    device: { ip: string | null; userAgent: string | null },
    exceptSessionId: string,
  ): Promise<{ known: boolean; any: boolean }> {
    // Equality (or IS NULL) rather than IS NOT DISTINCT FROM, so both probes use
    // user_activities_login_device_idx and stop at their first row.
    const params: unknown[] = [userId, exceptSessionId];
    const match = (column: string, value: string | null): string =>
      value === null ? `${column} IS NULL` : `${column} = $${params.push(value)}`;
    const sameDevice = `${match('ip', device.ip)} AND ${match('user_agent', device.userAgent)}`;
    const rows = await this.dataSource.query<{ known: boolean; any: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM user_activities WHERE user_id = $1 AND type = 'login'
                         AND ${sameDevice} AND details->>'sessionId' IS DISTINCT FROM $2) AS known,
              EXISTS (SELECT 1 FROM user_activities WHERE user_id = $1 AND type = 'login'
                         AND details->>'sessionId' IS DISTINCT FROM $2) AS any`,
      params,
    );
    return { known: rows[0]?.known ?? false, any: rows[0]?.any ?? false };
  }
}
