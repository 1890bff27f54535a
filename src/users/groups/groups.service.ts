import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { Group } from './group.entity';
import { GroupMember } from './group-member.entity';

/**
 * SQL for the permissions a user holds through their groups, as a text[] (empty when none), for
 * `u` the users row in the surrounding query: one definition for every place that authenticates.
 */
export const GROUP_PERMISSIONS_OF_U = `COALESCE((SELECT array_agg(DISTINCT p) FROM group_members gm JOIN groups g ON g.id = gm.group_id,
                        unnest(g.permissions) AS p WHERE gm.user_id = u.id), '{}')`;

export interface GroupWithCount extends Group {
  memberCount: number;
}

/** Groups as data. Who may grant what through a group is the security module's decision. */
@Injectable()
export class GroupsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  async create(
    data: { name: string; description?: string; permissions: string[] },
    manager?: EntityManager,
  ): Promise<Group> {
    const repo = this.m(manager).getRepository(Group);
    await this.assertNameFree(data.name, undefined, manager);
    return repo.save(
      repo.create({ name: data.name.trim(), description: data.description ?? '', permissions: data.permissions }),
    );
  }

  /** The group, else 404. With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends. */
  async getById(id: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<Group> {
    const group = await this.m(manager)
      .getRepository(Group)
      .findOne({ where: { id }, ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!group) throw AppException.notFound('group');
    return group;
  }

  async update(
    group: Group,
    patch: { name?: string; description?: string; permissions?: string[] },
    manager?: EntityManager,
  ): Promise<Group> {
    if (patch.name !== undefined && patch.name.trim().toLowerCase() !== group.name.toLowerCase()) {
      await this.assertNameFree(patch.name, group.id, manager);
    }
    Object.assign(group, {
      ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.permissions !== undefined ? { permissions: patch.permissions } : {}),
    });
    return this.m(manager).getRepository(Group).save(group);
  }

  async remove(group: Group, manager?: EntityManager): Promise<void> {
    await this.m(manager).getRepository(Group).delete({ id: group.id });
  }

  async list(page: { limit?: number; cursor?: string }): Promise<Page<GroupWithCount>> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(page.cursor, 'text');
    const rows = await this.dataSource.query<(Record<string, unknown> & { member_count: string })[]>(
      `SELECT g.*, (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id) AS member_count
         FROM groups g
        ${after ? 'WHERE (lower(g.name), g.id) > ($2, $3)' : ''}
        ORDER BY lower(g.name), g.id LIMIT $1`,
      after ? [limit + 1, after.k, after.id] : [limit + 1],
    );
    const groups = rows.map((r) => ({
      id: r.id as string,
      name: r.name as string,
      description: r.description as string,
      permissions: r.permissions as string[],
      createdAt: r.created_at as Date,
      updatedAt: r.updated_at as Date,
      memberCount: Number(r.member_count),
    }));
    return toPage(
      groups,
      limit,
      (g) => ({ k: g.name.toLowerCase(), id: g.id }),
      (g) => g,
    );
  }

  async memberIds(groupId: string, manager?: EntityManager): Promise<string[]> {
    const rows = await this.m(manager)
      .getRepository(GroupMember)
      .find({ where: { groupId }, order: { addedAt: 'ASC' } });
    return rows.map((r) => r.userId);
  }

  /** True if the user was added, false if already a member. */
  async addMember(groupId: string, userId: string, manager?: EntityManager): Promise<boolean> {
    const result = await this.m(manager)
      .createQueryBuilder()
      .insert()
      .into(GroupMember)
      .values({ groupId, userId })
      .orIgnore()
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** True if the user was removed, false if not a member. */
  async removeMember(groupId: string, userId: string, manager?: EntityManager): Promise<boolean> {
    const result = await this.m(manager).getRepository(GroupMember).delete({ groupId, userId });
    return (result.affected ?? 0) > 0;
  }

  private async assertNameFree(name: string, exceptId: string | undefined, manager?: EntityManager): Promise<void> {
    const rows = await this.m(manager).query<{ id: string }[]>('SELECT id FROM groups WHERE lower(name) = lower($1)', [
      name.trim(),
    ]);
    if (rows.some((r) => r.id !== exceptId)) {
      throw new AppException(ErrorCode.Conflict, 'A group with this name already exists.', {
        errors: [{ field: 'name', message: 'name is already used by another group' }],
      });
    }
  }
}
