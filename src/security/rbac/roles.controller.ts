import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from './authenticated.decorator';
import { RoleCatalogueDto } from './dto/role.dto';
import { PERMISSIONS } from './permissions';
import { describeRoles } from './roles';

@ApiTags('roles')
@Controller({ path: 'roles', version: '1' })
export class RolesController {
  @Get()
  @Authenticated('roles:read')
  @ApiOperation({
    summary: 'Every role with its effective permissions, and the permission catalogue',
    description:
      'The fixed roles, each with the roles it includes and its effective permissions, and every permission with its description. Needs `roles:read`.',
  })
  @ApiOkResponse({ type: RoleCatalogueDto })
  list(): RoleCatalogueDto {
    return {
      items: describeRoles(),
      permissions: Object.entries(PERMISSIONS).map(([name, description]) => ({ name, description })),
    };
  }
}
