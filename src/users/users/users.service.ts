import { Injectable } from '@nestjs/common';
import { type EntityManager, QueryFailedError } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { decodeCursor, DEFAULT_PAGE_SIZE, type Page, toPage } from '../../common/pagination/pagination';
import { emailSkeleton as skeletonOf, normalizeEmail } from '../../common/text/email';
import { GroupsRepository } from '../groups/groups.repository';
import type { User, UserStatus } from './user.entity';
import { UsersRepository } from './users.repository';

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

/**
 * Users as data: creation, lookup, listing and the changes the security module decides on.
 * Every method takes the caller's EntityManager when it runs inside a transaction.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly repo: UsersRepository,
    private readonly groups: GroupsRepository,
  ) {}

  async create(data: NewUser, manager?: EntityManager): Promise<User> {
    const email = normalizeEmail(data.email);
    const taken = (): AppException =>
      new AppException(ErrorCode.EmailTaken, 'A user with this email already exists.', {
        errors: [{ field: 'email', message: 'email is already registered' }],
      });
    if (await this.repo.existsWithEmail(email, manager)) throw taken();
    const emailSkeleton = skeletonOf(email);
    const lookalike = await this.repo.findBySkeleton(emailSkeleton, manager);
    // The same address committed by a concurrent request since the check above is taken, not confusable.
    if (lookalike?.email === email) throw taken();
    if (lookalike) {
      throw new AppException(ErrorCode.EmailConfusable, 'This email looks like the email of an existing account.', {
        errors: [{ field: 'email', message: 'email is confusable with an existing account' }],
      });
    }
    try {
      return await this.repo.insert({ ...data, email, emailSkeleton }, manager);
    } catch (err) {
      // Two requests for one email at once: both pass the check above, the unique index decides.
      if (isUniqueViolation(err, 'users_email_key')) throw taken();
      throw err;
    }
  }

  findById(id: string, manager?: EntityManager): Promise<User | null> {
    return this.repo.findById(id, manager);
  }

  /** The user, else 404. With `lock`, the row is locked FOR UPDATE until the transaction of `manager` ends. */
  async getById(id: string, manager?: EntityManager, options: { lock?: boolean } = {}): Promise<User> {
    const user = await this.repo.findById(id, manager, options);
    if (!user) throw AppException.notFound('user');
    return user;
  }

  /**
   * The user a row of the caller references (a credential, a login challenge): a missing one is a
   * fault, not a 404, and throws.
   */
  findExisting(id: string, manager?: EntityManager): Promise<User> {
    return this.repo.findExisting(id, manager);
  }

  findByEmail(email: string, manager?: EntityManager): Promise<User | null> {
    return this.repo.findByEmail(normalizeEmail(email), manager);
  }

  count(manager?: EntityManager): Promise<number> {
    return this.repo.count(manager);
  }

  /**
   * Serialises the creation of the first user across instances starting together (transaction-
   * scoped advisory lock): under it, `count` tells whether the database is still empty.
   */
  lockFirstUserCreation(manager: EntityManager): Promise<void> {
    return this.repo.lockFirstUserCreation(manager);
  }

  /**
   * Serialises changes that may remove a super_admin (transaction-scoped advisory lock), so two
   * admins cannot each demote "the other" last one: under it, `countActiveWithRole` is stable.
   */
  lockSuperAdminChanges(manager: EntityManager): Promise<void> {
    return this.repo.lockSuperAdminChanges(manager);
  }

  async update(
    user: User,
    patch: Partial<Pick<User, 'firstName' | 'lastName' | 'status' | 'statusReason' | 'roles' | 'lastLoginAt'>>,
    manager?: EntityManager,
  ): Promise<User> {
    Object.assign(user, patch);
    return this.repo.save(user, manager);
  }

  /** Active users holding `role`, other than `exceptUserId`: guards "the last super_admin". */
  countActiveWithRole(role: string, exceptUserId: string, manager?: EntityManager): Promise<number> {
    return this.repo.countActiveWithRole(role, exceptUserId, manager);
  }

  async withGroups(user: User, manager?: EntityManager): Promise<UserWithGroups> {
    const rows = await this.groups.membershipsOf(user.id, manager);
    return {
      user,
      groups: rows.map((r) => ({ id: r.id, name: r.name })),
      groupPermissions: [...new Set(rows.flatMap((r) => r.permissions))].sort(),
    };
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(filter: UserFilter): Promise<Page<User>> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    const like = filter.q ? `%${filter.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
    const rows = await this.repo.listUsers({
      status: filter.status,
      role: filter.role,
      groupId: filter.groupId,
      like,
      limit: limit + 1,
      after: decodeCursor(filter.cursor, 'time'),
    });
    return toPage(
      rows,
      limit,
      (u) => ({ k: u.createdAt.toISOString(), id: u.id }),
      (u) => u,
    );
  }
}
