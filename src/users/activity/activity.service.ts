import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RequestContexts } from '../../common/http/request-context';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { ActivityRepository } from './activity.repository';
import type { ActivityType, UserActivity } from './user-activity.entity';

export interface ActivityRecord {
  userId: string;
  type: ActivityType;
  details?: Record<string, unknown>;
}

/** A user's own history: logins, failures, changes. IP, user agent and API key come from the request. */
@Injectable()
export class ActivityService {
  constructor(private readonly repo: ActivityRepository) {}

  async record(record: ActivityRecord, manager?: EntityManager): Promise<void> {
    const ctx = RequestContexts.current();
    await this.repo.insert(
      {
        userId: record.userId,
        type: record.type,
        details: record.details ?? {},
        ip: ctx?.ip ?? null,
        userAgent: ctx?.userAgent ?? null,
        apiKeyId: ctx?.actor?.type === 'api_key' ? ctx.actor.id : null,
        occurredAt: new Date(),
      },
      manager,
    );
  }

  async list(userId: string, page: { limit?: number; cursor?: string }): Promise<Page<UserActivity>> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(page.cursor, 'time');
    const rows = await this.repo.listActivity(userId, { limit: limit + 1, after });
    return toPage(
      rows,
      limit,
      (a) => ({ k: a.occurredAt.toISOString(), id: a.id }),
      (a) => a,
    );
  }

  /**
   * A sign-in from an IP and user agent pair the user has not signed in from before; false for
   * the very first sign-in (there is nothing to compare with). `sessionId` is the new sign-in's.
   */
  async isNewDevice(
    userId: string,
    device: { ip: string | null; userAgent: string | null },
    sessionId: string,
  ): Promise<boolean> {
    const history = await this.repo.loginHistory(userId, device, sessionId);
    return history.any && !history.known;
  }
}
