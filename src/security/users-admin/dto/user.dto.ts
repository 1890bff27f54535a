import { entityTag } from '../../../common/http/etag';
import { Trim } from '../../../common/validation/trim.decorator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
} from 'class-validator';
import { PageDto, PageQueryDto } from '../../../common/pagination/pagination';
import { USER_STATUSES, type User, type UserStatus } from '../../../users/users/user.entity';
import { type Role, ROLES } from '../../rbac/roles';

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'jane.doe@example.com', description: 'Lower-cased.' })
  email!: string;

  @ApiProperty({ example: 'Jane' })
  firstName!: string;

  @ApiProperty({ example: 'Doe' })
  lastName!: string;

  @ApiProperty({ enum: USER_STATUSES, example: 'active' })
  status!: UserStatus;

  @ApiProperty({ type: String, nullable: true, description: 'Why the status was last set.' })
  statusReason!: string | null;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['trader'] })
  roles!: Role[];

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'Sign-in is refused until then after too many failed attempts (null: not locked). The lock ends by itself and blocks sign-in only: sessions and API keys keep working. POST /api/v1/users/{id}/unlock lifts it early.',
  })
  lockedUntil!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastLoginAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** `lockedUntil`: the sign-in lock in force, when the caller read it (admin views); null otherwise. */
export function mapUser(user: User & { lockedUntil?: Date | null }): UserDto {
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    status: user.status,
    statusReason: user.statusReason,
    roles: user.roles as Role[],
    lockedUntil: user.lockedUntil?.toISOString() ?? null,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

export class UserPageDto extends PageDto(UserDto) {}

export class GroupRefDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Equities desk' })
  name!: string;
}

export class MeDto extends UserDto {
  @ApiProperty({ type: [GroupRefDto] })
  groups!: GroupRefDto[];

  @ApiProperty({
    type: [String],
    example: ['portfolios:read', 'trades:write'],
    description: 'Effective permissions: roles (with inheritance) and groups.',
  })
  permissions!: string[];

  @ApiProperty({
    description: 'True when the password is past PASSWORD_MAX_AGE_DAYS: only a password change is allowed.',
  })
  passwordExpired!: boolean;

  @ApiProperty({ description: 'TOTP MFA is active: signing in needs a code.' })
  mfaEnabled!: boolean;

  @ApiProperty({
    description:
      'A role of mine is in MFA_REQUIRED_ROLES and MFA is not active: only enrolment (POST /api/v1/me/mfa/totp) is allowed.',
  })
  mfaEnrolmentRequired!: boolean;
}

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: USER_STATUSES })
  @IsOptional()
  @IsIn(USER_STATUSES)
  status?: UserStatus;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ format: 'uuid', description: 'Members of this group only.' })
  @IsOptional()
  @IsUUID()
  group?: string;

  @ApiPropertyOptional({ description: 'Case-insensitive text search on email and name.', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'sam.trader@example.com' })
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'Sam' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  firstName!: string;

  @ApiProperty({ example: 'Trader' })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  lastName!: string;

  @ApiProperty({ format: 'password', description: 'Initial password; must satisfy the password policy.' })
  @IsString()
  @MaxLength(1024)
  password!: string;

  @ApiPropertyOptional({
    enum: ROLES,
    isArray: true,
    default: ['viewer'],
    description: 'Only roles the caller may grant.',
  })
  @IsOptional()
  @IsIn(ROLES, { each: true })
  @ArrayUnique()
  @ArrayMaxSize(ROLES.length)
  roles?: Role[];
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ example: 'Jane' })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  firstName?: string;

  @ApiPropertyOptional({ example: 'Doe' })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  lastName?: string;
}

export class SetRolesDto {
  @ApiProperty({ enum: ROLES, isArray: true, example: ['trader', 'analyst'] })
  @IsIn(ROLES, { each: true })
  @ArrayUnique()
  @ArrayMaxSize(ROLES.length)
  roles!: Role[];
}

export const SETTABLE_STATUSES = ['active', 'inactive', 'suspended'] as const;

export class SetStatusDto {
  @ApiProperty({
    enum: SETTABLE_STATUSES,
    description: '`pending` is set by registration. A failed-login lock is not a status (see `lockedUntil`).',
  })
  @IsIn(SETTABLE_STATUSES)
  status!: (typeof SETTABLE_STATUSES)[number];

  @ApiProperty({ example: 'Left the firm', maxLength: 500 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  reason!: string;
}

export class RevokedSessionsDto {
  @ApiProperty({ example: 2, description: 'How many sessions were ended.' })
  revoked!: number;
}

/** The ETag of a user: that of `GET /api/v1/users/{id}`. */
export function userTag(user: User & { lockedUntil?: Date | null }): string {
  return entityTag(mapUser(user));
}
