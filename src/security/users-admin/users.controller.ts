import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ETAG_RESPONSE_HEADER, ETagged, IfMatchGuarded } from '../../common/http/etag';
import { PageQueryDto } from '../../common/pagination/pagination';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';
import type { Principal } from '../auth/principal';
import { ActivityPageDto, mapActivity } from '../me/me.dto';
import { Authenticated, CurrentPrincipal } from '../rbac/authenticated.decorator';
import {
  CreateUserDto,
  ListUsersQueryDto,
  mapUser,
  RevokedSessionsDto,
  SetRolesDto,
  SetStatusDto,
  UpdateProfileDto,
  UserDto,
  UserPageDto,
} from './dto/user.dto';
import { UserAdminService } from './user-admin.service';

const UUID = new ParseUUIDPipe();

@ApiTags('users')
@Controller({ path: 'users', version: '1' })
export class UsersController {
  constructor(private readonly admin: UserAdminService) {}

  @Get()
  @Authenticated('users:read')
  @ApiOperation({
    summary: 'List users',
    description:
      'Sorted newest first (creation time, then id). Filters: `status`, `role`, `group` (a group id) and `q` (text in email or name). Paginated with `limit` and `cursor` (the previous page\u2019s `nextCursor`).',
  })
  @ApiOkResponse({ type: UserPageDto })
  @ApiProblems(400)
  async list(@Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    const page = await this.admin.list({ ...query, groupId: query.group });
    return { items: page.items.map(mapUser), nextCursor: page.nextCursor };
  }

  @Post()
  @Authenticated('users:create')
  @ApiOperation({
    summary: 'Create a user',
    description: 'Active at once, with an initial password. Only roles the caller may grant.',
  })
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems(400, 409)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateUserDto): Promise<UserDto> {
    return mapUser(await this.admin.create(principal, body));
  }

  @Get(':id')
  @Authenticated('users:read')
  @ApiOperation({
    summary: 'Get a user',
    description:
      'One user with roles, groups and status. Needs `users:read`. The `ETag` is the one `PATCH /api/v1/users/{id}` takes in `If-Match`; `If-None-Match` with it answers 304 while nothing changed.',
  })
  @ApiOkResponse({ type: UserDto, headers: ETAG_RESPONSE_HEADER })
  @ETagged()
  @ApiProblems(400, 404)
  async get(@Param('id', UUID) id: string): Promise<UserDto> {
    return mapUser(await this.admin.get(id));
  }

  @Patch(':id')
  @Authenticated('users:update')
  @ApiOperation({
    summary: "Update a user's profile",
    description:
      "Changes a user's name or email (partial update); audited. Needs `users:update`. With `If-Match` (the `ETag` of `GET /api/v1/users/{id}`), a user changed since is refused with 412 and nothing changes. Answers the user with its new `ETag`.",
  })
  @ApiOkResponse({ type: UserDto, headers: ETAG_RESPONSE_HEADER })
  @IfMatchGuarded()
  @ApiProblems(400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: UpdateProfileDto,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<UserDto> {
    return mapUser(await this.admin.updateProfile(principal, id, body, ifMatch));
  }

  @Put(':id/roles')
  @Authenticated('users:manage-roles')
  @ApiOperation({
    summary: "Replace a user's roles",
    description:
      'Nobody grants or removes a role above their own; only super_admin grants admin or super_admin; the last active super_admin keeps the role (409). Takes effect on the user\u2019s next request.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 404, 409)
  async setRoles(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: SetRolesDto,
  ): Promise<UserDto> {
    return mapUser(await this.admin.setRoles(principal, id, body.roles));
  }

  @Post(':id/status')
  @HttpCode(200)
  @Authenticated('users:manage-status')
  @ApiOperation({
    summary: "Set a user's status, with a reason",
    description:
      'Suspending or deactivating ends every session of the user and revokes every API key of theirs at once (reactivating does not revive the keys). Activating also approves a pending registration. An API key acts only on users whose roles its scopes cover entirely (403, audited as denied).',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 404, 409)
  async setStatus(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
    @Body() body: SetStatusDto,
  ): Promise<UserDto> {
    return mapUser(await this.admin.setStatus(principal, id, body.status, body.reason));
  }

  @Post(':id/unlock')
  @HttpCode(200)
  @Authenticated('users:manage-status')
  @ApiOperation({
    summary: 'Unlock an account locked by failed logins',
    description:
      'Clears the lockout and the failed-sign-in counter of an account locked by failed logins; audited. Needs `users:manage-status`.',
  })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems(400, 404)
  async unlock(@CurrentPrincipal() principal: Principal, @Param('id', UUID) id: string): Promise<UserDto> {
    return mapUser(await this.admin.unlock(principal, id));
  }

  @Delete(':id/sessions')
  @Authenticated('sessions:manage')
  @ApiOperation({
    summary: 'End every session of a user',
    description:
      'Revokes every session of the user (refresh tokens and the access tokens issued from them), e.g. after a suspected compromise; audited. Needs `sessions:manage`.',
  })
  @ApiOkResponse({ type: RevokedSessionsDto })
  @ApiProblems(400, 404)
  async revokeSessions(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UUID) id: string,
  ): Promise<RevokedSessionsDto> {
    return { revoked: await this.admin.revokeSessions(principal, id) };
  }

  @Get(':id/activity')
  @Authenticated('users:read-activity')
  @ApiOperation({ summary: "A user's activity", description: 'Newest first.' })
  @ApiOkResponse({ type: ActivityPageDto })
  @ApiProblems(400, 404)
  async activity(@Param('id', UUID) id: string, @Query() query: PageQueryDto): Promise<ActivityPageDto> {
    const page = await this.admin.activityOf(id, query);
    return { items: page.items.map(mapActivity), nextCursor: page.nextCursor };
  }
}
