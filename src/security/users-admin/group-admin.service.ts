import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { assertIfMatch } from '../../common/http/etag';
import type { Page } from '../../common/pagination/pagination';
import type { Group } from '../../users/groups/group.entity';
import type { User } from '../../users/users/user.entity';
import { ActivityService } from '../../users/activity/activity.service';
import type { GroupWithCount } from '../../users/groups/groups.repository';
import { GroupsService } from '../../users/groups/groups.service';
import { UsersService } from '../../users/users/users.service';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { groupTag } from './dto/group.dto';
import { notHeld } from '../rbac/acting-authority';
import { auditDenials, PrivilegeDenied } from '../rbac/privilege-denied';

/**
 * Groups grant permissions, so managing one is granting: a caller may only create, change, delete
 * or add members to groups whose permissions they hold themselves. Otherwise a manager could add
 * themselves to a group that grants `users:manage-roles`. What the caller holds is what the request
 * may do (for an API key: its scopes), and refused attempts are audited with outcome `denied`.
 */
@Injectable()
export class GroupAdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly groups: GroupsService,
    private readonly users: UsersService,
    private readonly activity: ActivityService,
    private readonly audit: AuditService,
  ) {}

  list(page: { limit?: number; cursor?: string }): Promise<Page<GroupWithCount>> {
    return this.groups.list(page);
  }

  async get(id: string): Promise<{ group: Group; members: User[] }> {
    const group = await this.groups.getById(id);
    return { group, members: await this.membersOf(id) };
  }

  private async membersOf(id: string, manager?: EntityManager): Promise<User[]> {
    const ids = await this.groups.memberIds(id, manager);
    const members: User[] = [];
    // One at a time: inside a transaction (embedded mode: one connection) queries run in turn anyway.
    for (const userId of ids) {
      const user = await this.users.findById(userId, manager);
      if (user) members.push(user);
    }
    return members;
  }

  /** The `If-Match` of an update, against the tag of GET /groups/{id} read under the row lock (412 if stale). */
  private async assertIfMatch(group: Group, ifMatch: string | undefined, manager: EntityManager): Promise<void> {
    if (ifMatch === undefined) return;
    assertIfMatch(ifMatch, groupTag(group, await this.membersOf(group.id, manager)));
  }

  async create(actor: Principal, data: { name: string; description?: string; permissions?: string[] }): Promise<Group> {
    const permissions = data.permissions ?? [];
    return auditDenials(this.audit, () => {
      this.assertHolds(actor, permissions, { action: 'group.created', details: { name: data.name, permissions } });
      return this.insert(data, permissions);
    });
  }

  private insert(data: { name: string; description?: string }, permissions: string[]): Promise<Group> {
    return this.dataSource.transaction(async (manager) => {
      const group = await this.groups.create({ ...data, permissions }, manager);
      await this.audit.record(manager, {
        action: 'group.created',
        targetType: 'group',
        targetId: group.id,
        details: { name: group.name, permissions },
      });
      return group;
    });
  }

  async update(
    actor: Principal,
    id: string,
    patch: { name?: string; description?: string; permissions?: string[] },
    ifMatch?: string,
  ): Promise<Group> {
    return auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const group = await this.groups.getById(id, manager, { lock: ifMatch !== undefined });
        const attempt = { action: 'group.updated', targetId: id, details: { after: patch } };
        this.assertHolds(actor, group.permissions, attempt);
        if (patch.permissions) this.assertHolds(actor, patch.permissions, attempt);
        await this.assertIfMatch(group, ifMatch, manager);
        const before = { name: group.name, description: group.description, permissions: [...group.permissions] };
        const updated = await this.groups.update(group, patch, manager);
        await this.audit.record(manager, {
          action: 'group.updated',
          targetType: 'group',
          targetId: id,
          details: { before, after: patch },
        });
        return updated;
      }),
    );
  }

  async remove(actor: Principal, id: string, ifMatch?: string): Promise<void> {
    await auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const group = await this.groups.getById(id, manager, { lock: ifMatch !== undefined });
        this.assertHolds(actor, group.permissions, { action: 'group.deleted', targetId: id });
        await this.assertIfMatch(group, ifMatch, manager);
        const members = await this.groups.memberIds(id, manager);
        await this.groups.remove(group, manager);
        await this.audit.record(manager, {
          action: 'group.deleted',
          targetType: 'group',
          targetId: id,
          details: { name: group.name, permissions: group.permissions, members },
        });
      }),
    );
  }

  async addMember(actor: Principal, groupId: string, userId: string): Promise<void> {
    await auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const group = await this.groups.getById(groupId, manager);
        this.assertHolds(actor, group.permissions, {
          action: 'group.member_added',
          targetId: groupId,
          details: { userId },
        });
        await this.users.getById(userId, manager);
        if (!(await this.groups.addMember(groupId, userId, manager))) return;
        await this.activity.record(
          { userId, type: 'groups_changed', details: { added: { id: group.id, name: group.name } } },
          manager,
        );
        await this.audit.record(manager, {
          action: 'group.member_added',
          targetType: 'group',
          targetId: groupId,
          details: { userId },
        });
      }),
    );
  }

  async removeMember(actor: Principal, groupId: string, userId: string): Promise<void> {
    await auditDenials(this.audit, () =>
      this.dataSource.transaction(async (manager) => {
        const group = await this.groups.getById(groupId, manager);
        this.assertHolds(actor, group.permissions, {
          action: 'group.member_removed',
          targetId: groupId,
          details: { userId },
        });
        if (!(await this.groups.removeMember(groupId, userId, manager))) throw AppException.notFound('group member');
        await this.activity.record(
          { userId, type: 'groups_changed', details: { removed: { id: group.id, name: group.name } } },
          manager,
        );
        await this.audit.record(manager, {
          action: 'group.member_removed',
          targetType: 'group',
          targetId: groupId,
          details: { userId },
        });
      }),
    );
  }

  private assertHolds(
    actor: Principal,
    permissions: string[],
    attempt: { action: string; targetId?: string; details?: Record<string, unknown> },
  ): void {
    const missing = notHeld(actor, permissions);
    if (missing.length > 0) {
      throw new PrivilegeDenied(
        ErrorCode.Forbidden,
        actor.apiKeyId
          ? 'An API key may only manage groups whose permissions are all in its scopes.'
          : 'You may only manage groups whose permissions you hold yourself.',
        {
          ...attempt,
          targetType: 'group',
          details: { ...attempt.details, missingPermissions: missing, reason: 'permissions_not_held' },
        },
        { missingPermissions: missing },
      );
    }
  }
}
