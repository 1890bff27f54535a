import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { emailSkeleton as skeletonOf, normalizeEmail } from '../../common/text/email';
import { User, type UserStatus } from './user.entity';

export interface NewUser {
  email: string;
  firstName: string;
  lastName: string;
  status: UserStatus;
  roles: string[];
}

export interface UserFilter {
  status?: UserStatus;
  role?: string;
  groupId?: string;
  /** Case-insensitive substring of email, first or last name. */
  q?: string;
  limit?: number;
  cursor?: string;
}

/** The user as stored, plus the groups they belong to and what those groups grant. */
export interface UserWithGroups {
  user: User;
  groups: { id: string; name: string }[];
  groupPermissions: string[];
}

function isUniqueViolation(err: unknown, constraint: string): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driver = err.driverError as { code?: string; constraint?: string } | undefined;
  return driver?.code === '23505' && driver.constraint === constraint;
}

export { normalizeEmail };

/** Advisory lock keys of the users table's singletons (7238163xxx: Bastion's identity locks). */
const SUPER_ADMIN_CHANGES_LOCK = 7238163002;
const FIRST_USER_LOCK = 7238163003;

/**
 * Users as data: creation, lookup, listing and the changes the security module decides on.
 * Every method takes the caller's EntityManager when it runs inside a transaction.
 */
@Injectable()
export class UsersService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  async create(data: NewUser, manager?: EntityManager): Promise<User> {
    const repo = this.m(manager).getRepository(User);
    const email = normalizeEmail(data.email);
    const taken = (): AppException =>
      new AppException(ErrorCode.EmailTaken, 'A user with this email already exists.', {
        errors: [{ field: 'email', message: 'email is already registered' }],
      });
    if (await repo.exists({ where: { email } })) throw taken();
    const emailSkeleton = skeletonOf(email);
    const lookalike = await repo.findOne({ where: { emailSkeleton }, select: { id: true, email: true } });
    // The same address committed by a concurrent request since the check above is taken, not confusable.
    if (lookalike?.email === email) throw taken();
    if (lookalike) {
      throw new AppException(ErrorCode.EmailConfusable, 'This email looks like the email of an existing account.', {
        errors: [{ field: 'email', message: 'email is confusable with an existing account' }],
      });
    }
    try {
      return await repo.save(repo.create({ ...data, email, emailSkeleton }));
    } catch (err) {
      // Two requests for one email at once: both pass the check above, the unique index decides.
      if (isUniqueViolation(err, 'users_email_key')) throw taken();
      throw err;
    }
  }

  findById(id: string, manager?: EntityManager): Promise<User | null> {
    return this.m(manager).getRepository(User).findOneBy({ id });
  }

  /** The user, else 404. With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends. */
  async getById(id: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<User> {
    const user = options.lock
      ? await this.m(manager)
          .getRepository(User)
          .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } })
      : await this.findById(id, manager);
    if (!user) throw AppException.notFound('user');
    return user;
  }

  findByEmail(email: string, manager?: EntityManager): Promise<User | null> {
    return this.m(manager)
      .getRepository(User)
      .findOneBy({ email: normalizeEmail(email) });
  }

  count(manager?: EntityManager): Promise<number> {
    return this.m(manager).getRepository(User).count();
  }

  /**
   * Serialises the creation of the first user across instances starting together (transaction-
   * scoped advisory lock): under it, `count` tells whether the database is still empty.
   */
  async lockFirstUserCreation(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_USER_LOCK]);
  }

  /**
   * Serialises changes that may remove a super_admin (transaction-scoped advisory lock), so two
   * admins cannot each demote "the other" last one: under it, `countActiveWithRole` is stable.
   */
  async lockSuperAdminChanges(manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [SUPER_ADMIN_CHANGES_LOCK]);
  }

  async update(
    user: User,
    patch: Partial<Pick<User, 'firstName' | 'lastName' | 'status' | 'statusReason' | 'roles' | 'lastLoginAt'>>,
    manager?: EntityManager,
  ): Promise<User> {
    Object.assign(user, patch);
    return this.m(manager).getRepository(User).save(user);
  }

  /** Active users holding `role`, other than `exceptUserId`: guards "the last super_admin". */
  async countActiveWithRole(role: string, exceptUserId: string, manager?: EntityManager): Promise<number> {
    return this.m(manager)
      .getRepository(User)
      .createQueryBuilder('u')
      .where(':role = ANY(u.roles)', { role })
      .andWhere(`u.status = 'active'`)
      .andWhere('u.id <> :id', { id: exceptUserId })
      .getCount();
  }

  async withGroups(user: User, manager?: EntityManager): Promise<UserWithGroups> {
    const rows = await this.m(manager).query<{ id: string; name: string; permissions: string[] }[]>(
      `SELECT g.id, g.name, g.permissions FROM group_members gm JOIN groups g ON g.id = gm.group_id
        WHERE gm.user_id = $1 ORDER BY g.name`,
      [user.id],
    );
    return {
      user,
      groups: rows.map((r) => ({ id: r.id, name: r.name })),
      groupPermissions: [...new Set(rows.flatMap((r) => r.permissions))].sort(),
    };
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(filter: UserFilter): Promise<Page<User>> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const qb = this.dataSource.getRepository(User).createQueryBuilder('u');
    if (filter.status) qb.andWhere('u.status = :status', { status: filter.status });
    if (filter.role) qb.andWhere(':role = ANY(u.roles)', { role: filter.role });
    if (filter.groupId) {
      qb.andWhere('EXISTS (SELECT 1 FROM group_members gm WHERE gm.user_id = u.id AND gm.group_id = :groupId)', {
        groupId: filter.groupId,
      });
    }
    if (filter.q) {
      const like = `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        "(u.email LIKE :like OR lower(u.first_name) LIKE :like OR lower(u.last_name) LIKE :like OR lower(u.first_name || ' ' || u.last_name) LIKE :like)",
        { like },
      );
    }
    const after = decodeCursor(filter.cursor, 'time');
    if (after) qb.andWhere('(u.created_at, u.id) < (:k, :id)', { k: after.k, id: after.id });
    const rows = await qb
      .orderBy('u.created_at', 'DESC')
      .addOrderBy('u.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    return toPage(
      rows,
      limit,
      (u) => ({ k: u.createdAt.toISOString(), id: u.id }),
      (u) => u,
    );
  }
}
