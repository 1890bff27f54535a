import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { GROUPS_OF_U } from '../../users/groups/groups.repository';
import type { UserStatus } from '../../users/users/user.entity';
import { type RawUser, userFields } from '../../users/users/users.repository';
import { MFA_ENABLED_OF_U } from '../mfa/mfa.repository';

/** The caller's account as /me shows it when the guard's snapshot is not at hand. */
export interface AccountRow {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  status: UserStatus;
  statusReason: string | null;
  roles: string[];
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  passwordChangedAt: Date | null;
  /** The sign-in lock in force, if any. */
  lockedUntil: Date | null;
  mfaEnabled: boolean;
  groups: { id: string; name: string }[];
}

/** One row of the account query: the users row and what /me adds to it. */
interface RawAccount extends RawUser {
  password_changed_at: Date | null;
  locked_until: Date | null;
  mfa_enabled: boolean;
  groups: { id: string; name: string }[];
}

function mapAccount(r: RawAccount): AccountRow {
  return {
    ...userFields(r),
    passwordChangedAt: r.password_changed_at,
    lockedUntil: r.locked_until,
    mfaEnabled: r.mfa_enabled,
    groups: r.groups,
  };
}

/** The one read of /me outside the guard's snapshot: user, credential, MFA and groups in one query. */
@Injectable()
export class AccountRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findAccount(userId: string): Promise<AccountRow | null> {
    const [row] = await this.dataSource.query<RawAccount[]>(
      `SELECT u.*, c.password_changed_at, CASE WHEN c.locked_until > now() THEN c.locked_until END AS locked_until,
              ${MFA_ENABLED_OF_U} AS mfa_enabled,
              ${GROUPS_OF_U} AS groups
         FROM users u LEFT JOIN credentials c ON c.user_id = u.id
        WHERE u.id = $1`,
      [userId],
    );
    return row ? mapAccount(row) : null;
  }
}
