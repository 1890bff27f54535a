import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { KeysetPosition } from '../../common/pagination/pagination';
import { User, type UserStatus } from './user.entity';

/** A `users` row as raw SQL returns it (`SELECT u.*` or the same columns by name). */
export interface RawUser {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  status: UserStatus;
  status_reason: string | null;
  roles: string[];
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The fields of a {@link RawUser}, as the entity names them. */
export function userFields(
  r: RawUser,
): Pick<
  User,
  | 'id'
  | 'email'
  | 'firstName'
  | 'lastName'
  | 'status'
  | 'statusReason'
  | 'roles'
  | 'lastLoginAt'
  | 'createdAt'
  | 'updatedAt'
> {
  return {
    id: r.id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    status: r.status,
    statusReason: r.status_reason,
    roles: r.roles,
    lastLoginAt: r.last_login_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A {@link RawUser} as the entity. */
export function mapRawUser(r: RawUser): User {
  return Object.assign(new User(), userFields(r));
}

/** Advisory lock keys of the users table's singletons (7238163xxx: Bastion's identity locks). */
const SUPER_ADMIN_CHANGES_LOCK = 7238163002;
const FIRST_USER_LOCK = 7238163003;

/** The optional filters of the user list, already normalised by the service. */
export interface UserListFilter {
  status?: string;
  role?: string;
  groupId?: string;
  /** Lower-cased LIKE pattern (escaped, with its `%`), matched on email, first, last and full name. */
  like?: string;
  limit: number;
  after?: KeysetPosition;
}

/** Every statement on `users`, and the advisory locks that serialise its singletons. */
@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  existsWithEmail(email: string, manager?: EntityManager): Promise<boolean> {
    return this.m(manager).getRepository(User).exists({ where: { email } });
  }

  /** The user whose email has this skeleton (confusable detection), id and email only. */
  findBySkeleton(emailSkeleton: string, manager?: EntityManager): Promise<Pick<User, 'id' | 'email'> | null> {
    return this.m(manager)
      .getRepository(User)
      .findOne({ where: { emailSkeleton }, select: { id: true, email: true } });
  }

  /** Inserts the user; a concurrent insert of the same email fails on `users_email_key`. */
  insert(data: Partial<User>, manager?: EntityManager): Promise<User> {
    const repo = this.m(manager).getRepository(User);
    return repo.save(repo.create(data));
  }

  /** With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends. */
  findById(id: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<User | null> {
    return options.lock
      ? this.m(manager)
          .getRepository(User)
          .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } })
      : this.m(manager).getRepository(User).findOneBy({ id });
  }

  /** The user, which the caller knows exists (a row that references it): a missing one throws. */
  findExisting(id: string, manager?: EntityManager): Promise<User> {
    return this.m(manager).getRepository(User).findOneByOrFail({ id });
  }

  findByEmail(email: string, manager?: EntityManager): Promise<User | null> {
    return this.m(manager).getRepository(User).findOneBy({ email });
  }

  count(manager?: EntityManager): Promise<number> {
    return this.m(manager).getRepository(User).count();
  }

  /** Transaction-scoped advisory lock serialising the creation of the first user across instances. */
  async lockFirstUserCreation(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_USER_LOCK]);
  }

  /** Transaction-scoped advisory lock serialising changes that may remove a super_admin. */
  async lockSuperAdminChanges(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SUPER_ADMIN_CHANGES_LOCK]);
  }

  save(user: User, manager?: EntityManager): Promise<User> {
    return this.m(manager).getRepository(User).save(user);
  }

  /** Active users holding `role`, other than `exceptUserId`. */
  countActiveWithRole(role: string, exceptUserId: string, manager?: EntityManager): Promise<number> {
    return this.m(manager)
      .getRepository(User)
      .createQueryBuilder('u')
      .where(':role = ANY(u.roles)', { role })
      .andWhere(`u.status = 'active'`)
      .andWhere('u.id <> :id', { id: exceptUserId })
      .getCount();
  }

  /** Newest first on (created_at, id), `limit` rows after `after`, with the optional filters. */
  listUsers(filter: UserListFilter): Promise<User[]> {
    const qb = this.dataSource.getRepository(User).createQueryBuilder('u');
    if (filter.status) qb.andWhere('u.status = :status', { status: filter.status });
    if (filter.role) qb.andWhere(':role = ANY(u.roles)', { role: filter.role });
    if (filter.groupId) {
      qb.andWhere('EXISTS (SELECT 1 FROM group_members gm WHERE gm.user_id = u.id AND gm.group_id = :groupId)', {
        groupId: filter.groupId,
      });
    }
    if (filter.like) {
      qb.andWhere(
        "(u.email LIKE :like OR lower(u.first_name) LIKE :like OR lower(u.last_name) LIKE :like OR lower(u.first_name || ' ' || u.last_name) LIKE :like)",
        { like: filter.like },
      );
    }
    const { after } = filter;
    if (after) qb.andWhere('(u.created_at, u.id) < (:k, :id)', { k: after.k, id: after.id });
    return qb.orderBy('u.created_at', 'DESC').addOrderBy('u.id', 'DESC').limit(filter.limit).getMany();
  }
}
