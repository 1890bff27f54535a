import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import { Group } from './group.entity';
import { GroupMember } from './group-member.entity';

/**
 * SQL for the permissions a user holds through their groups, as a text[] (empty when none), for
 * `u` the users row in the surrounding query: one definition for every place that authenticates.
 */
export const GROUP_PERMISSIONS_OF_U = `COALESCE((SELECT array_agg(DISTINCT p) FROM group_members gm JOIN groups g ON g.id = gm.group_id,
                        unnest(g.permissions) AS p WHERE gm.user_id = u.id), '{}')`;

/**
 * SQL for the groups a user belongs to, as a JSON array of `{id, name}` by name (empty when none),
 * for `u` the users row in the surrounding query.
 */
export const GROUPS_OF_U = `COALESCE((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
                          FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id = u.id), '[]')`;

export interface GroupWithCount extends Group {
  memberCount: number;
}

/** One row of `groups`, with its member count where the query adds it. */
interface RawGroup {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  created_at: Date;
  updated_at: Date;
  member_count: string;
}

function mapGroupWithCount(r: RawGroup): GroupWithCount {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: r.permissions,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    memberCount: Number(r.member_count),
  };
}

/** A group a user belongs to, with what it grants. */
export interface MembershipRow {
  id: string;
  name: string;
  permissions: string[];
}

/** Every statement on `groups` and `group_members`. */
@Injectable()
export class GroupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  insert(data: { name: string; description: string; permissions: string[] }, manager?: EntityManager): Promise<Group> {
    const repo = this.m(manager).getRepository(Group);
    return repo.save(repo.create(data));
  }

  /** With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends. */
  findById(id: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<Group | null> {
    return this.m(manager)
      .getRepository(Group)
      .findOne({ where: { id }, ...(options.lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  save(group: Group, manager?: EntityManager): Promise<Group> {
    return this.m(manager).getRepository(Group).save(group);
  }

  async delete(id: string, manager?: EntityManager): Promise<void> {
    await this.m(manager).getRepository(Group).delete({ id });
  }

  /** Ids of the groups whose name equals `name` case-insensitively. */
  async idsNamed(name: string, manager?: EntityManager): Promise<string[]> {
    const rows = await this.m(manager).query<{ id: string }[]>('SELECT id FROM groups WHERE lower(name) = lower($1)', [
      name,
    ]);
    return rows.map((r) => r.id);
  }

  /** Groups by lower(name) then id, `limit` rows after `after`, with their member counts. */
  async listWithCounts(filter: { limit: number; after?: KeysetPosition }): Promise<GroupWithCount[]> {
    const { limit, after } = filter;
    const rows = await this.dataSource.query<RawGroup[]>(
      `SELECT g.*, (SELECT count(*) FROM group_members gm WHERE gm.group_id = g.id) AS member_count
         FROM groups g
        ${after ? 'WHERE (lower(g.name), g.id) > ($2, $3)' : ''}
        ORDER BY lower(g.name), g.id LIMIT $1`,
      after ? [limit, after.k, after.id] : [limit],
    );
    return rows.map(mapGroupWithCount);
  }

  /** The groups `userId` belongs to, by name. */
  membershipsOf(userId: string, manager?: EntityManager): Promise<MembershipRow[]> {
    return this.m(manager).query<MembershipRow[]>(
      `SELECT g.id, g.name, g.permissions FROM group_members gm JOIN groups g ON g.id = gm.group_id
        WHERE gm.user_id = $1 ORDER BY g.name`,
      [userId],
    );
  }

  /** Member ids, in the order they were added. */
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
}
