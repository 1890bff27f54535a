import { ApiProperty } from '@nestjs/swagger';
import { ALL_PERMISSIONS } from '../permissions';
import { ROLES } from '../roles';

export class RoleDto {
  @ApiProperty({ enum: ROLES, example: 'trader' })
  name!: string;

  @ApiProperty({ example: 'Books trades in their own portfolios.' })
  description!: string;

  @ApiProperty({ example: 40, description: 'Nobody grants a role ranked above their own highest role.' })
  rank!: number;

  @ApiProperty({ enum: ROLES, isArray: true, description: 'Roles whose permissions this role includes.' })
  inherits!: string[];

  @ApiProperty({ enum: ALL_PERMISSIONS, isArray: true, description: 'Effective permissions, inherited ones included.' })
  permissions!: string[];
}

export class PermissionDto {
  @ApiProperty({ example: 'trades:write' })
  name!: string;

  @ApiProperty({ example: 'Book trades in portfolios the caller can see.' })
  description!: string;
}

export class RoleCatalogueDto {
  @ApiProperty({ type: [RoleDto] })
  items!: RoleDto[];

  @ApiProperty({ type: [PermissionDto], description: 'The whole permission catalogue.' })
  permissions!: PermissionDto[];
}
