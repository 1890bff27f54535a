import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { Group } from './group.entity';
import { type GroupWithCount, GroupsRepository } from './groups.repository';

/** Groups as data. Who may grant what through a group is the security module's decision. */
@Injectable()
export class GroupsService {
  constructor(private readonly repo: GroupsRepository) {}

  async create(
    data: { name: string; description?: string; permissions: string[] },
    manager?: EntityManager,
  ): Promise<Group> {
    await this.assertNameFree(data.name, undefined, manager);
    return this.repo.insert(
      { name: data.name.trim(), description: data.description ?? '', permissions: data.permissions },
      manager,
    );
  }

  /** The group, else 404. With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends. */
  async getById(id: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<Group> {
    const group = await this.repo.findById(id, manager, options);
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
    return this.repo.save(group, manager);
  }

  async remove(group: Group, manager?: EntityManager): Promise<void> {
    await this.repo.delete(group.id, manager);
  }

  async list(page: { limit?: number; cursor?: string }): Promise<Page<GroupWithCount>> {
    const limit = page.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(page.cursor, 'text');
    const groups = await this.repo.listWithCounts({ limit: limit + 1, after });
    return toPage(
      groups,
      limit,
      (g) => ({ k: g.name.toLowerCase(), id: g.id }),
      (g) => g,
    );
  }

  memberIds(groupId: string, manager?: EntityManager): Promise<string[]> {
    return this.repo.memberIds(groupId, manager);
  }

  /** True if the user was added, false if already a member. */
  addMember(groupId: string, userId: string, manager?: EntityManager): Promise<boolean> {
    return this.repo.addMember(groupId, userId, manager);
  }

  /** True if the user was removed, false if not a member. */
  removeMember(groupId: string, userId: string, manager?: EntityManager): Promise<boolean> {
    return this.repo.removeMember(groupId, userId, manager);
  }

  private async assertNameFree(name: string, exceptId: string | undefined, manager?: EntityManager): Promise<void> {
    const ids = await this.repo.idsNamed(name.trim(), manager);
    if (ids.some((id) => id !== exceptId)) {
      throw new AppException(ErrorCode.Conflict, 'A group with this name already exists.', {
        errors: [{ field: 'name', message: 'name is already used by another group' }],
      });
    }
  }
}
