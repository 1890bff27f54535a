import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { entityTag } from '../../../common/http/etag';
import { Trim } from '../../../common/validation/trim.decorator';
import { PageDto } from '../../../common/pagination/pagination';
import type { Group } from '../../../users/groups/group.entity';
import type { User } from '../../../users/users/user.entity';
import { ALL_PERMISSIONS } from '../../rbac/permissions';
import { mapUser, UserDto } from './user.dto';

export class GroupDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'Equities desk' })
  name!: string;

  @ApiProperty({ example: 'Cash equities traders, London' })
  description!: string;

  @ApiProperty({ enum: ALL_PERMISSIONS, isArray: true, description: 'Granted to every member, on top of their roles.' })
  permissions!: string[];

  @ApiProperty({ example: 4 })
  memberCount!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

export class GroupDetailDto extends GroupDto {
  @ApiProperty({ type: [UserDto] })
  members!: UserDto[];
}

export function mapGroup(group: Group, memberCount: number): GroupDto {
  return {
    id: group.id,
    name: group.name,
    description: group.description,
    permissions: group.permissions,
    memberCount,
    createdAt: group.createdAt.toISOString(),
    updatedAt: group.updatedAt.toISOString(),
  };
}

export class GroupPageDto extends PageDto(GroupDto) {}

export class CreateGroupDto {
  @ApiProperty({ example: 'Equities desk', maxLength: 100 })
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ example: 'Cash equities traders, London', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    enum: ALL_PERMISSIONS,
    isArray: true,
    default: [],
    description: 'Only permissions the caller holds.',
  })
  @IsOptional()
  @IsIn(ALL_PERMISSIONS, { each: true })
  @ArrayUnique()
  @ArrayMaxSize(ALL_PERMISSIONS.length)
  permissions?: string[];
}

export class UpdateGroupDto {
  @ApiPropertyOptional({ example: 'Equities desk', maxLength: 100 })
  @IsOptional()
  @Trim()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    enum: ALL_PERMISSIONS,
    isArray: true,
    description: 'Replaces the group\u2019s permissions; only permissions the caller holds.',
  })
  @IsOptional()
  @IsIn(ALL_PERMISSIONS, { each: true })
  @ArrayUnique()
  @ArrayMaxSize(ALL_PERMISSIONS.length)
  permissions?: string[];
}

export function mapGroupDetail(group: Group, members: User[]): GroupDetailDto {
  return { ...mapGroup(group, members.length), members: members.map(mapUser) };
}

/** The ETag of a group: that of `GET /api/v1/groups/{id}` (the group with its members). */
export function groupTag(group: Group, members: User[]): string {
  return entityTag(mapGroupDetail(group, members));
}
